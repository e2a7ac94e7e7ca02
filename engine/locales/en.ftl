# Rebound: what the customer sees, in English (the fallback for every other
# language). One message per line; { $name } is a value filled in by Rebound.
# A shop overrides or adds messages with its own en.ftl in shop.locales_dir.

## The receipt e-mail, the receipt page and the PDF
email-subject = Your receipt for order { $order } from { $shop }
receipt-title = Receipt for order { $order }
receipt-preheader = Your receipt from { $shop }: order { $order }, { $total }
receipt-heading = Receipt
receipt-order = Order
receipt-order-number = Order { $order }
receipt-date = Date
receipt-customer = Customer
receipt-billed-to = Billed to
receipt-items = Items
receipt-item = Item
receipt-qty = Qty
receipt-unit-price = Unit price
receipt-amount = Amount
receipt-subtotal = Subtotal
receipt-discount = Discount
receipt-shipping = Shipping
receipt-tax = Tax
receipt-total = Total
receipt-total-currency = Total ({ $currency })
receipt-questions = Questions about your order? Write to us:
receipt-document-title = Receipt { $order } - { $shop }
receipt-page-footer = Receipt { $order }  |  Page { $page } of { $pages }

## The receipt link page (/r/…)
page-title = Your receipt
page-loading = Loading your receipt…
page-download-pdf = Download PDF
page-link-expires = This personal link works until { $expires }. To print, use your browser's print command.
page-unavailable-heading = This receipt link has expired or is not valid
page-fresh-explain = Links to receipts work for a limited time. We can send a fresh one to the email address on the order.
page-fresh-button = Send me a fresh link
page-fresh-sent = If this link belongs to an order, a fresh link is on its way to the email address on that order.
page-questions = Questions? Write to us:
page-limited-heading = Too many requests
page-limited-body = Please wait a minute and try again.
page-error-heading = Your receipt could not be shown
page-error-body = Something went wrong. Please try again later.
page-unavailable-plain = This receipt link has expired or is not valid.
page-limited-plain = Too many requests. Please wait a minute.

## The secure link by e-mail (the masked re-send)
link-subject = Your receipt for order { $order } is ready
link-greeting = Hello { $name },
link-undelivered = We could not deliver the receipt for your order { $order } from { $shop } by email.
link-view-here = You can view and download it here:
link-button = View your receipt
link-expires = The link is personal and works until { $expires }.
link-questions = Questions? Write to { $email }.

## Text message, WhatsApp and the spoken call
sms-link = { $shop }: your receipt for order { $order }: { $url }
whatsapp-link = { $shop }: your receipt for order { $order } is ready. View it here: { $url }
call-message = Hello, this is { $shop } about your order { $order }. We could not email your receipt. We are sending you a text message with a secure link to it now.

## The account notification (a logged-in customer, shown by the shop in the account)
notification-receipt-held = We could not email your receipt for order { $order } from { $shop }. You can view and download it here in your account.
notification-receipt-ready = Your receipt for order { $order } is ready to download.

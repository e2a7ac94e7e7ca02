# Rebound: yang dilihat pelanggan, dalam bahasa Indonesia.
# Pesan yang tidak ada di sini diambil dari en.ftl. Toko dapat menimpa atau
# menambah pesan dengan id.ftl miliknya sendiri di shop.locales_dir.

## Email struk, halaman struk dan PDF
email-subject = Struk pesanan { $order } dari { $shop }
receipt-title = Struk untuk pesanan { $order }
receipt-preheader = Struk Anda dari { $shop }: pesanan { $order }, { $total }
receipt-heading = Struk Pembelian
receipt-order = Pesanan
receipt-order-number = Pesanan { $order }
receipt-date = Tanggal
receipt-customer = Pelanggan
receipt-billed-to = Ditagihkan kepada
receipt-items = Barang
receipt-item = Barang
receipt-qty = Jml
receipt-unit-price = Harga satuan
receipt-amount = Jumlah
receipt-subtotal = Subtotal
receipt-discount = Diskon
receipt-shipping = Ongkos kirim
receipt-tax = Pajak
receipt-total = Total
receipt-total-currency = Total ({ $currency })
receipt-questions = Ada pertanyaan tentang pesanan Anda? Hubungi kami:
receipt-document-title = Struk { $order } - { $shop }
receipt-page-footer = Struk { $order }  |  Halaman { $page } dari { $pages }

## Halaman tautan struk (/r/…)
page-title = Struk Anda
page-loading = Memuat struk Anda…
page-download-pdf = Unduh PDF
page-link-expires = Tautan pribadi ini berlaku sampai { $expires }. Untuk mencetak, gunakan perintah cetak di peramban Anda.
page-unavailable-heading = Tautan struk ini sudah kedaluwarsa atau tidak berlaku
page-fresh-explain = Tautan struk hanya berlaku untuk waktu terbatas. Kami dapat mengirim tautan baru ke alamat email pada pesanan.
page-fresh-button = Kirimi saya tautan baru
page-fresh-sent = Jika tautan ini milik sebuah pesanan, tautan baru sedang dikirim ke alamat email pada pesanan tersebut.
page-questions = Ada pertanyaan? Hubungi kami:
page-limited-heading = Terlalu banyak permintaan
page-limited-body = Mohon tunggu satu menit, lalu coba lagi.
page-error-heading = Struk Anda tidak dapat ditampilkan
page-error-body = Terjadi kesalahan. Silakan coba lagi nanti.
page-unavailable-plain = Tautan struk ini sudah kedaluwarsa atau tidak berlaku.
page-limited-plain = Terlalu banyak permintaan. Mohon tunggu satu menit.

## Tautan aman lewat email (pengiriman ulang tersamar)
link-subject = Struk untuk pesanan { $order } sudah siap
link-greeting = Halo { $name },
link-undelivered = Kami tidak dapat mengirim struk untuk pesanan { $order } dari { $shop } melalui email.
link-view-here = Anda dapat melihat dan mengunduhnya di sini:
link-button = Lihat struk Anda
link-expires = Tautan ini bersifat pribadi dan berlaku sampai { $expires }.
link-questions = Ada pertanyaan? Kirim email ke { $email }.

## SMS, WhatsApp dan panggilan suara
sms-link = { $shop }: struk pesanan { $order } Anda: { $url }
whatsapp-link = { $shop }: struk pesanan { $order } Anda sudah siap. Lihat di sini: { $url }
call-message = Halo, ini dari { $shop } tentang pesanan Anda { $order }. Kami tidak dapat mengirim struk Anda melalui email. Kami sedang mengirimkan SMS berisi tautan aman ke struk tersebut.

## Notifikasi akun (pelanggan yang masuk ke akunnya; ditampilkan oleh toko di akun)
notification-receipt-held = Kami tidak dapat mengirim struk untuk pesanan { $order } dari { $shop } melalui email. Anda dapat melihat dan mengunduhnya di sini, di akun Anda.
notification-receipt-ready = Struk untuk pesanan { $order } siap diunduh.

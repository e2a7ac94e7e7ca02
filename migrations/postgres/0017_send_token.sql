-- A send job's token, drawn when the job is first claimed: the VERP token and part of
-- the Message-ID of the attempt it sends. A re-run after a crash sends with the same
-- ones, so the attempt is written once, with its outcome, not before and after the send.
ALTER TABLE jobs ADD COLUMN send_token TEXT;

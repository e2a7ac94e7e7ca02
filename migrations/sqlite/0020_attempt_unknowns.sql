-- How many times an attempt ended with an unknown outcome (the connection broke or timed
-- out after the message data went out): each is re-sent later with the same Message-ID,
-- after the retry schedule's delay for that count; past the schedule the order is held.
ALTER TABLE delivery_attempts ADD COLUMN unknowns INTEGER NOT NULL DEFAULT 0;

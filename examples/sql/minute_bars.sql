-- One bar per ticker and minute from the demo stream (spate demo
-- stock-ticker), written to the stream minute_bars when the minute is over.
INSERT INTO minute_bars
SELECT ticker_symbol,
       TUMBLE_START(event_time, INTERVAL '1' MINUTE) AS window_start,
       MIN(price) AS low, MAX(price) AS high, COUNT(*) AS trades
FROM stock_ticker
GROUP BY ticker_symbol, TUMBLE(event_time, INTERVAL '1' MINUTE)

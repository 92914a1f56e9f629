-- Issue 20: business calendars are streams of their own, read by folding
-- them (`projections::business_calendars`). Listing them finds each
-- stream by its first event; this index holds just those rows, a handful,
-- so the list does not scan the log.
CREATE INDEX events_business_calendar_streams ON events (stream_id)
    WHERE event_type = 'business_calendar.defined';

// The backoff helpers moved to @app/sis-http (shared with the PowerSchool client); re-exported so the public surface
// of @app/oneroster stays as it was.
export { fullJitterBackoffMs, parseRetryAfterMs } from '@app/sis-http';

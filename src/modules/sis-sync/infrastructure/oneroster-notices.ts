import type { OneRosterNotice } from '@app/oneroster';
import type { SisRecordIssue } from '../application/ports/sis-source.port.js';

/** A run-level OneRoster notice (unmapped extension value, `inactive` status) as the run's one warning about it. */
export function noticeIssue(notice: OneRosterNotice): SisRecordIssue {
  return { entity: notice.entity, sourcedId: null, field: notice.field, message: notice.message, severity: 'warning' };
}

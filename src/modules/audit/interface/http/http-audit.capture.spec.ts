import { withAuditSubjects, type AuditPolicy } from '@app/audit-capture';
import type { EventBus } from '@nestjs/cqrs';
import { describe, expect, it } from 'vitest';
import type { AuditConfig } from '../../../../config/index.js';
import { AuditLog, type AppendedAuditEntry } from '../../application/ports/audit-log.port.js';
import type { AuditEntryDraft } from '../../domain/audit-entry.js';
import { HttpAuditCapture, type AuditableRequest } from './http-audit.capture.js';

class InMemoryAuditLog extends AuditLog {
  readonly drafts: AuditEntryDraft[] = [];
  async append(drafts: readonly AuditEntryDraft[]): Promise<AppendedAuditEntry[]> {
    this.drafts.push(...drafts);
    return drafts.map((_, index) => ({ seq: String(this.drafts.length - drafts.length + index + 1) }) as never);
  }
  async appendUnlessRecorded(draft: AuditEntryDraft): Promise<boolean> {
    this.drafts.push(draft);
    return true;
  }
}

const STUDENT = '3d2c04f8-ce3b-4293-9074-1b398e721e16';
const policy: AuditPolicy = {
  action: 'sync_run.restore',
  resource: 'sync_run',
  dataCategories: ['roster_sync'],
  subjects: { from: 'handler' },
  mode: 'read',
};

function setup() {
  const log = new InMemoryAuditLog();
  const config = { captureEnabled: true, failClosed: true } as AuditConfig;
  const capture = new HttpAuditCapture(log, config, { publish: () => undefined } as unknown as EventBus);
  const request = () =>
    ({ method: 'POST', params: {}, header: () => undefined, route: { path: '/x' } }) as unknown as AuditableRequest;
  return { log, capture, request };
}

describe('HttpAuditCapture, subjects named by the handler', () => {
  it('records the students the handler attached (an empty list too)', async () => {
    const { log, capture, request } = setup();
    await capture.record(request(), policy, { outcome: 'allowed', result: withAuditSubjects({}, [STUDENT]) });
    await capture.record(request(), policy, { outcome: 'allowed', result: withAuditSubjects({}, []) });
    expect(log.drafts.map((draft) => draft.studentIds)).toEqual([[STUDENT], []]);
  });

  it('refuses a result the handler did not name its students for, instead of recording that it named none', async () => {
    const { log, capture, request } = setup();
    await expect(capture.record(request(), policy, { outcome: 'allowed', result: { conflicts: [] } })).rejects.toThrow(
      /sync_run\.restore.*withAuditSubjects/,
    );
    expect(log.drafts).toHaveLength(0);
  });
});

import type { AlertMessage } from '@app/alerting';
import type { AlertLink, SyncAlert } from '../domain/sync-alert.js';

/** A sync alert for the alert channels: the alert itself as the webhook body, and its email. */
export function syncAlertMessage(alert: SyncAlert): AlertMessage {
  return { kind: alert.type, deliveryId: alert.id, ...renderAlertEmail(alert), payload: alert };
}

/** Subject and body of an alert email: the alert's ids, codes and counts, and the links to act on it. */
export function renderAlertEmail(alert: SyncAlert): { subject: string; text: string } {
  const name = alert.connection.name;
  const run = alert.run;
  const subject =
    alert.type === 'sis-sync.run-held'
      ? `[Homeroom] Sync held for review: ${name}`
      : alert.type === 'sis-sync.consecutive-failures'
        ? `[Homeroom] Sync failed ${alert.failures?.consecutive ?? ''} times in a row: ${name}`
        : `[Homeroom] Sync failed: ${name} (${run.errorCode ?? 'unknown error'})`;
  const lines = [
    alert.summary,
    '',
    `Connection: ${name} (${alert.connection.provider}, id ${alert.connection.id})`,
    `Run: ${run.id} (${run.mode}, ${run.trigger}, attempt ${run.attempt}), state ${run.state}`,
    `Started: ${run.startedAt ?? '-'}   Finished: ${run.finishedAt ?? '-'}`,
  ];
  if (run.errorCode) lines.push(`Error: ${run.errorCode}${run.errorDescription ? ` - ${run.errorDescription}` : ''}`);
  lines.push(`Issues recorded: ${run.issueCount}`);
  if (alert.hold) {
    lines.push('', 'Held because:');
    for (const reason of alert.hold.reasons) {
      lines.push(
        reason.kind === 'threshold'
          ? `  - ${reason.entity}: ${reason.count} to ${reason.action} (limit ${reason.limit})`
          : reason.kind === 'rejected'
            ? `  - ${reason.entity}: ${reason.count} of ${reason.pulled} records rejected, ${reason.percent}% (limit ${reason.limit})`
            : `  - ${reason.entity}: ${reason.count} records change SIS id (id remap)`,
      );
    }
    lines.push('', 'Preview (create / update / restore / deactivate / unchanged, active before):');
    for (const [entity, entry] of Object.entries(alert.hold.preview)) {
      if (!entry) continue;
      lines.push(
        `  ${entity}: ${entry.create} / ${entry.update} / ${entry.restore} / ${entry.deactivate} / ${entry.unchanged}, ${entry.activeBefore}`,
      );
    }
    lines.push('', `Apply it: ${link(alert.hold.approve)}`, `Drop it:  ${link(alert.hold.discard)}`);
  }
  if (alert.failures) {
    lines.push(
      '',
      `Failed runs in a row: ${alert.failures.consecutive} (alert threshold ${alert.failures.threshold})`,
      `Runs, newest first: ${alert.failures.runIds.join(', ')}`,
    );
  }
  lines.push(
    '',
    `Run: ${link(run.links.run)}`,
    `Issues: ${link(run.links.issues)}`,
    '',
    `Alert ${alert.id} at ${alert.occurredAt}. Alerts carry ids, codes and counts only; the details are in Homeroom.`,
  );
  return { subject: subject.replace(/[\r\n]+/g, ' '), text: `${lines.join('\n')}\n` };
}

function link(target: AlertLink): string {
  return `${target.method} ${target.url}`;
}

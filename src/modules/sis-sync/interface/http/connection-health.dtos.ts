import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ConnectionTestResult } from '../../application/commands/test-connection.command.js';
import type { SisCheckResult } from '../../application/ports/sis-source.port.js';
import type { ConnectionHealth } from '../../domain/connection-health.js';

export class ConnectionCheckDto {
  @ApiProperty({
    example: 'permission:demographics',
    description: '`reachability`, `credentials` or `permission:<resource>`; `upload` for a CSV connection',
  })
  check!: string;
  @ApiProperty() ok!: boolean;
  @ApiProperty({ example: '/demographics: The server refused access (403)' }) detail!: string;
  @ApiProperty() durationMs!: number;

  static from(check: SisCheckResult): ConnectionCheckDto {
    return { check: check.check, ok: check.ok, detail: check.detail, durationMs: check.durationMs };
  }
}

export class ConnectionTestDto {
  @ApiProperty({ description: 'True when every check passed' }) ok!: boolean;
  @ApiProperty({ type: [ConnectionCheckDto] }) checks!: ConnectionCheckDto[];
  @ApiProperty() durationMs!: number;

  static from(result: ConnectionTestResult): ConnectionTestDto {
    return { ok: result.ok, checks: result.checks.map(ConnectionCheckDto.from), durationMs: result.durationMs };
  }
}

export class RunPointerDto {
  @ApiProperty() runId!: string;
  @ApiProperty() at!: string;
}

export class LastErrorDto {
  @ApiProperty({ nullable: true, type: String }) code!: string | null;
  @ApiProperty({ nullable: true, type: String }) message!: string | null;
  @ApiProperty() runId!: string;
  @ApiProperty() at!: string;
}

export class ActiveRunDto {
  @ApiProperty() runId!: string;
  @ApiProperty({ enum: ['queued', 'running', 'held'] }) state!: string;
  @ApiProperty({ enum: ['full', 'delta'] }) mode!: string;
  @ApiProperty() dryRun!: boolean;
  @ApiProperty() trigger!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) startedAt!: string | null;
}

export class ConnectionHealthDto {
  @ApiProperty() connectionId!: string;
  @ApiProperty() enabled!: boolean;
  @ApiPropertyOptional({ type: RunPointerDto, nullable: true, description: 'Newest run that applied its changes' })
  lastSuccess!: RunPointerDto | null;
  @ApiProperty({ description: 'Failed runs since the last success (dry runs are not counted)' })
  consecutiveFailures!: number;
  @ApiPropertyOptional({ type: LastErrorDto, nullable: true }) lastError!: LastErrorDto | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Next tick of the schedule outside blackout windows; null without a schedule or when disabled',
  })
  nextScheduledRun!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'When the last access token expires; null when unknown' })
  tokenExpiresAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) tokenObservedAt!: string | null;
  @ApiPropertyOptional({ type: ActiveRunDto, nullable: true }) activeRun!: ActiveRunDto | null;

  static from(health: ConnectionHealth): ConnectionHealthDto {
    return {
      connectionId: health.connectionId,
      enabled: health.enabled,
      lastSuccess: health.lastSuccess
        ? { runId: health.lastSuccess.runId, at: health.lastSuccess.at.toISOString() }
        : null,
      consecutiveFailures: health.consecutiveFailures,
      lastError: health.lastError
        ? {
            code: health.lastError.code,
            message: health.lastError.message,
            runId: health.lastError.runId,
            at: health.lastError.at.toISOString(),
          }
        : null,
      nextScheduledRun: health.nextScheduledRun?.toISOString() ?? null,
      tokenExpiresAt: health.tokenExpiresAt?.toISOString() ?? null,
      tokenObservedAt: health.tokenObservedAt?.toISOString() ?? null,
      activeRun: health.activeRun
        ? {
            runId: health.activeRun.runId,
            state: health.activeRun.state,
            mode: health.activeRun.mode,
            dryRun: health.activeRun.dryRun,
            trigger: health.activeRun.trigger,
            createdAt: health.activeRun.createdAt.toISOString(),
            startedAt: health.activeRun.startedAt?.toISOString() ?? null,
          }
        : null,
    };
  }
}

import { exportBundle, type ExportBundleResult } from '@app/audit-chain';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AuditConfig } from '../../../../config/index.js';
import { AuditChainReader } from '../ports/audit-chain.reader.port.js';
import { AuditCheckpointRepository } from '../ports/audit-checkpoint.repository.js';
import { CheckpointSigner } from '../ports/checkpoint-signer.port.js';
import { SignAuditCheckpointCommand, type SignedCheckpoint } from './sign-audit-checkpoint.command.js';

export interface AuditBundleExport extends ExportBundleResult {
  /** The checkpoint covering the tip, signed for this export unless the last one already did. */
  checkpoint: SignedCheckpoint | null;
}

/**
 * Writes (or extends) an offline-verifiable bundle of the chain in `dir`. With `signCheckpoint`, first makes
 * sure a checkpoint covers the tip, so that nothing exported is unsigned.
 */
export class ExportAuditBundleCommand extends Command<AuditBundleExport> {
  constructor(
    readonly dir: string,
    readonly signCheckpoint = true,
    /** Entries per segment file; the default suits production, tests use small ones. */
    readonly segmentEntries?: number,
  ) {
    super();
  }
}

@CommandHandler(ExportAuditBundleCommand)
export class ExportAuditBundleHandler implements ICommandHandler<ExportAuditBundleCommand, AuditBundleExport> {
  constructor(
    private readonly commands: CommandBus,
    private readonly chain: AuditChainReader,
    private readonly checkpoints: AuditCheckpointRepository,
    private readonly signer: CheckpointSigner,
    private readonly config: AuditConfig,
  ) {}

  async execute({ dir, signCheckpoint, segmentEntries }: ExportAuditBundleCommand): Promise<AuditBundleExport> {
    const checkpoint = signCheckpoint ? await this.commands.execute(new SignAuditCheckpointCommand('uncovered')) : null;
    // Checkpoints before the tip: every honest checkpoint then lies within the exported range.
    const checkpoints = await this.checkpoints.all();
    const tip = await this.chain.tip();
    const result = await exportBundle(
      dir,
      {
        origin: this.config.origin,
        checkpoints,
        publicKeys: this.signer.publishedKeys(),
        tipSeq: tip.seq,
        hashAt: (seq) => this.chain.hashAt(seq),
        records: (fromSeq, toSeq) => this.chain.records(fromSeq, toSeq),
      },
      { segmentEntries },
    );
    return { ...result, checkpoint };
  }
}

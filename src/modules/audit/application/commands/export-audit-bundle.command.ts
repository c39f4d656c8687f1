import { exportBundle, type ExportBundleResult } from '@app/audit-chain';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AuditConfig } from '../../../../config/index.js';
import { AuditChainReader } from '../ports/audit-chain.reader.port.js';
import { AuditCheckpointRepository } from '../ports/audit-checkpoint.repository.js';
import { CheckpointSigner } from '../ports/checkpoint-signer.port.js';
import { ChainReadRefusedError, VerifyingChainReader } from '../verifying-chain-reader.js';
import { verifyStoredChain } from '../stored-chain-verification.js';
import {
  SignAuditCheckpointCommand,
  type SignedCheckpoint,
  type VerifiedChainPrefix,
} from './sign-audit-checkpoint.command.js';

export interface AuditBundleExport extends ExportBundleResult {
  /** The checkpoint covering the tip, signed for this export unless the last one already did. */
  checkpoint: SignedCheckpoint | null;
}

/**
 * Writes (or extends) an offline-verifiable bundle of the chain in `dir`. With `signCheckpoint`, the bundle ends
 * at a signed checkpoint, so that nothing exported is unsigned: the entries are verified as they are read and
 * written, and once all verified a checkpoint is signed over the last one written (unless one already covers
 * it) before the checkpoints and the manifest are written. A chain that fails verification is not signed and
 * its bundle's manifest is left as it was.
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
    // Checkpoints before the tip: every honest checkpoint then lies within the exported range.
    const checkpoints = await this.checkpoints.all();
    const tip = await this.chain.tip();
    const publicKeys = this.signer.publishedKeys();
    const source = {
      origin: this.config.origin,
      checkpoints,
      publicKeys,
      tipSeq: tip.seq,
      hashAt: (seq: number) => this.chain.hashAt(seq),
    };
    if (!signCheckpoint) {
      const result = await exportBundle(
        dir,
        { ...source, records: (fromSeq, toSeq) => this.chain.records(fromSeq, toSeq) },
        { segmentEntries },
      );
      return { ...result, checkpoint: null };
    }

    const reader = new VerifyingChainReader(this.chain, {
      checkpoints,
      publicKeys: publicKeys.map((key) => key.publicKeyPem),
    });
    let checkpoint: SignedCheckpoint | null = null;
    try {
      const result = await exportBundle(
        dir,
        { ...source, records: (fromSeq, toSeq) => reader.records(fromSeq, toSeq) },
        {
          segmentEntries,
          finalCheckpoints: async ({ lastSeq, headHash }) => {
            const latest = await this.checkpoints.latest();
            checkpoint =
              latest && latest.size >= lastSeq
                ? { checkpoint: latest, created: false }
                : await this.commands.execute(
                    new SignAuditCheckpointCommand('uncovered', await this.verifiedUpTo(reader, lastSeq, headHash)),
                  );
            return this.checkpoints.all();
          },
        },
      );
      return { ...result, checkpoint };
    } catch (error) {
      if (error instanceof ChainReadRefusedError) {
        // Refused (and reported) the way a signer refuses a chain that does not verify.
        await this.commands.execute(
          new SignAuditCheckpointCommand('uncovered', { verification: error.verification, head: null }),
        );
      }
      throw error;
    }
  }

  /**
   * The verification of 1..lastSeq the signer needs: the one made while the entries were read, or, when none
   * were (the bundle already held them all, unsigned), one made now where they are stored.
   */
  private async verifiedUpTo(
    reader: VerifyingChainReader,
    lastSeq: number,
    head: Buffer,
  ): Promise<VerifiedChainPrefix> {
    const read = reader.verified();
    if (read && read.verification.lastSeq === lastSeq) return read;
    const verification = await verifyStoredChain(this.chain, {
      lastSeq,
      toSeq: lastSeq,
      checkpoints: await this.checkpoints.all(),
      publicKeys: this.signer.publishedKeys().map((key) => key.publicKeyPem),
    });
    return { verification, head };
  }
}

import type { PublishedAuditKey } from '@app/audit-chain';

/** Signs checkpoint bodies with the deployment's key, held outside the database. */
export abstract class CheckpointSigner {
  /** Id of the key new checkpoints are signed with; throws AUDIT.SIGNING_KEY_MISSING without one. */
  abstract currentKeyId(): string;
  abstract sign(body: string): Buffer;
  /** The current key and the previous ones, which still verify older checkpoints. */
  abstract publishedKeys(): PublishedAuditKey[];
}

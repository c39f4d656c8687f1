import {
  auditSigningKeyFrom,
  publishAuditKey,
  signCheckpoint,
  type AuditSigningKey,
  type PublishedAuditKey,
} from '@app/audit-chain';
import { Injectable } from '@nestjs/common';
import { AuditConfig } from '../../../config/index.js';
import { CheckpointSigner } from '../application/ports/checkpoint-signer.port.js';
import { AuditSigningKeyMissingError } from '../domain/audit-integrity.errors.js';

/**
 * Ed25519 keys derived from AUDIT_SIGNING_KEY (signs) and AUDIT_SIGNING_PREVIOUS_KEYS (published only, so
 * checkpoints signed before a rotation still verify). The key material never touches the database.
 */
@Injectable()
export class Ed25519CheckpointSigner extends CheckpointSigner {
  private readonly current: AuditSigningKey | undefined;
  private readonly published: PublishedAuditKey[];

  constructor(config: AuditConfig) {
    super();
    this.current = config.signingKey ? auditSigningKeyFrom(config.signingKey) : undefined;
    const keys = new Map<string, PublishedAuditKey>();
    if (this.current) keys.set(this.current.keyId, publishAuditKey(this.current, true));
    for (const material of config.previousSigningKeys) {
      const key = auditSigningKeyFrom(material);
      if (!keys.has(key.keyId)) keys.set(key.keyId, publishAuditKey(key, false));
    }
    this.published = [...keys.values()];
  }

  currentKeyId(): string {
    return this.key().keyId;
  }

  sign(body: string): Buffer {
    return signCheckpoint(body, this.key().privateKey);
  }

  publishedKeys(): PublishedAuditKey[] {
    return this.published.map((key) => ({ ...key }));
  }

  private key(): AuditSigningKey {
    if (!this.current) throw new AuditSigningKeyMissingError();
    return this.current;
  }
}

import type { RosterEntity, RosterRecord } from '@app/contracts';

export type ChangeAction = 'create' | 'update' | 'restore' | 'deactivate' | 'unchanged';

export interface EntityChangePreview {
  /** Creates, updates and restores are the ones the apply will make: records it would skip are not among them. */
  create: number;
  update: number;
  restore: number;
  deactivate: number;
  unchanged: number;
  /**
   * Records the apply would skip: a required reference (see `MirrorReference`) names no active record of the
   * connection, nor a record this change set brings and would apply.
   */
  skip: number;
  /** Active records of this entity in the mirror before the change (the base of percentage thresholds). */
  activeBefore: number;
  samples: Partial<Record<Exclude<ChangeAction, 'unchanged'> | 'skip', string[]>>;
}

export interface DeactivationScope {
  /** Deactivate active records that are missing from the change set (a complete snapshot was pulled). */
  absent: boolean;
  /** Org sourcedIds: absence only counts for records of these schools. Empty = the whole connection. */
  schoolScope: readonly string[];
}

export interface UnresolvedReference {
  sourcedId: string;
  field: string;
  reference: string;
}

/**
 * A record applied although one of its optional references is missing (`missing`), or names a department that
 * resolves to no school, so no school's scope covers the record (`noSchool`).
 */
export interface ReferenceWarning extends UnresolvedReference {
  reason: 'missing' | 'noSchool';
}

/** Who owns a locally editable person field during this apply (see the connection's field policies). */
export type FieldOwnership = 'sis' | 'local' | 'sticky';

export interface ApplyOptions {
  /** Person fields by their record name (`preferredFirstName`, …); unlisted editable fields are sticky. */
  fieldOwnership: Readonly<Record<string, FieldOwnership>>;
  /** Overrides stickiness: SIS values replace local edits, which are cleared. */
  remaster: boolean;
}

/** A sticky local value kept although the SIS changed the field. */
export interface StickyConflict {
  sourcedId: string;
  field: string;
}

export interface ApplyChunkResult {
  /** The last sourcedId of the chunk, the checkpoint to resume after; null when nothing was left. */
  lastSourcedId: string | null;
  processed: number;
  created: string[];
  updated: string[];
  restored: string[];
  unchanged: number;
  /** Records skipped: a required reference is not an active record of the connection. */
  unresolved: UnresolvedReference[];
  /** Records applied with an optional reference missing, or in a department of no school. */
  warnings: ReferenceWarning[];
  conflicts: StickyConflict[];
}

export interface ChangeSetKey {
  /** The change set (the sync run's id). */
  changeSetId: string;
  connectionId: string;
}

export interface RestoreOptions {
  /** Only bring back what the run deactivated; leave its creates and updates. */
  undeleteOnly: boolean;
}

export interface EntityRestoreCounts {
  /** Records the run created, deactivated again. */
  uncreated: number;
  /** Records the run updated or restored, put back to their before-image. */
  reverted: number;
  /** Records the run deactivated, active again. */
  undeleted: number;
  /** Records a later run changed: left as they are and reported. */
  conflicts: number;
}

export interface RestoreConflict {
  entity: RosterEntity;
  sourcedId: string;
  /** The run that changed the record after this one. */
  changedByRun: string | null;
}

export interface RestoreResult {
  counts: Partial<Record<RosterEntity, EntityRestoreCounts>>;
  conflicts: RestoreConflict[];
  /** Local ids of records whose state the restore changed, per entity. */
  changed: Partial<Record<RosterEntity, string[]>>;
}

/**
 * The district's roster mirror as the sync engine writes it: a change set is staged, previewed, then applied
 * in chunks (creates/updates in dependency order, deactivations in reverse). Every step is idempotent, so a
 * crashed run resumes from its last checkpoint to the same end state.
 */
export abstract class RosterMirror {
  /**
   * Adds records to a change set; a sourcedId staged twice keeps the version of the later `page` (the last one
   * given for equal pages), whichever write commits first. Writes of different pages may run at once.
   */
  abstract stage<E extends RosterEntity>(
    key: ChangeSetKey,
    entity: E,
    records: readonly RosterRecord<E>[],
    page?: number,
  ): Promise<void>;

  /**
   * Records that the listing holds these records but they could not be read (a byte that is not UTF-8, a missing
   * required field): they are part of the change set as "present, unreadable", so they never count as absent and
   * are neither applied nor deactivated: the mirror keeps them as they are. A readable version of the same record,
   * staged before or after, wins.
   */
  abstract stageUnreadable(
    key: ChangeSetKey,
    entity: RosterEntity,
    sourcedIds: readonly string[],
    page?: number,
  ): Promise<void>;

  /** Forgets what was staged (for one entity, before re-pulling it, or all of it). */
  abstract discardStaged(changeSetId: string, entity?: RosterEntity): Promise<void>;

  abstract stagedCount(changeSetId: string, entity: RosterEntity): Promise<number>;

  /**
   * Which of `entities` have nothing staged in the change set. The staging table is UNLOGGED: a PostgreSQL crash
   * or a failover to a standby empties it, and an entity pulled with records but now without any staged ones
   * has lost its change set (applying absence from it would deactivate everything).
   */
  abstract unstagedEntities(changeSetId: string, entities: readonly RosterEntity[]): Promise<RosterEntity[]>;

  /** After a change set is staged and before it is previewed or applied (query plans depend on it). */
  abstract refreshStagedStatistics(): Promise<void>;

  /**
   * Before and while an apply touches `rows` records of an entity: refreshes the table's statistics when the
   * planner believes the connection has far fewer rows there than it has (a first sync, a second district beside
   * another connection's, a resumed apply), so lookups use the source key, whoever wrote the rows.
   */
  abstract refreshMirrorStatistics(key: ChangeSetKey, entity: RosterEntity, rows: number): Promise<void>;

  /**
   * Merges staged people that are one person (1.1 per-role users) under one sourcedId with the others as
   * aliases. Returns how many staged users were folded into another.
   */
  abstract mergeStagedPeople(key: ChangeSetKey, rule: 'identifier' | 'ic-role-prefix'): Promise<number>;

  /** sourcedId aliases known for the connection (mirror and change set): alias → canonical sourcedId. */
  abstract personAliases(key: ChangeSetKey): Promise<Map<string, string>>;

  abstract preview(
    key: ChangeSetKey,
    entity: RosterEntity,
    deactivation: DeactivationScope,
  ): Promise<EntityChangePreview>;

  /**
   * People in the change set that are mirror people under a new sourcedId (`metadata.ic.legacysourceId`),
   * e.g. Infinite Campus 1.1 → 1.2: applying them as creates plus deactivations would replace everyone.
   */
  abstract countRemappedPeople(key: ChangeSetKey): Promise<number>;

  /** Re-keys mirror people to their new sourcedIds (keeping local ids), before the change set is applied. */
  abstract remapPeople(key: ChangeSetKey): Promise<number>;

  /**
   * Splits the active staged records of an entity after `afterSourcedId` into chunks of `size`: the last
   * sourcedId of each chunk, in order (the last chunk may be shorter).
   */
  abstract chunkBounds(
    key: ChangeSetKey,
    entity: RosterEntity,
    afterSourcedId: string | null,
    size: number,
  ): Promise<string[]>;

  /**
   * Applies the next chunk of creates/updates/restores after `afterSourcedId` (at most `limit`, and none past
   * `throughSourcedId` when given). Call inside a transaction.
   */
  abstract applyChunk(
    key: ChangeSetKey,
    entity: RosterEntity,
    afterSourcedId: string | null,
    limit: number,
    options?: ApplyOptions,
    throughSourcedId?: string | null,
  ): Promise<ApplyChunkResult>;

  /**
   * Resolves every org of the connection to the school it belongs to: a school to itself, a department to the
   * nearest school among its parents (`parentSourcedId`, any number of levels), anything else to none. Read scopes
   * place the classes and people of a department in that school. Idempotent; call after the orgs are applied.
   */
  abstract resolveOrgSchools(key: ChangeSetKey): Promise<void>;

  /**
   * Reverts what a run changed, from its before-images. Records a later run touched are not overwritten: they
   * are reported as conflicts. Call inside a transaction.
   */
  abstract restoreRun(key: ChangeSetKey, options: RestoreOptions): Promise<RestoreResult>;

  /**
   * Deactivates up to `limit` active records of `entity` that reference a record this change set deactivated
   * (enrollments of a person or class, the demographics of a person, classes of a course), so the mirror never
   * keeps an active record whose parent is inactive. Logged like any deactivation (a restore brings them back).
   * Returns their ids; none for an entity that references nothing. Call inside a transaction.
   */
  abstract deactivateDependentsChunk(key: ChangeSetKey, entity: RosterEntity, limit: number): Promise<string[]>;

  /** Deactivates up to `limit` records (explicit `tobedeleted`, or absent from a snapshot). Returns their ids. */
  abstract deactivateChunk(
    key: ChangeSetKey,
    entity: RosterEntity,
    deactivation: DeactivationScope,
    limit: number,
  ): Promise<string[]>;
}

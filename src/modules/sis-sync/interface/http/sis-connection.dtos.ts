import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  getSchemaPath,
  OmitType,
  PartialType,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  ACADEMIC_SESSION_TYPES,
  CLASS_TYPES,
  ENROLLMENT_ROLES,
  ORG_TYPES,
  PERSON_ROLES,
  type AcademicSessionType,
  type ClassType,
  type EnrollmentRole,
  type ExtensionMappings,
  type OrgType,
  type PersonRole,
} from '@app/contracts';
import { SETTING_LIMITS } from '../../domain/connection-defaults.js';
import {
  DEFAULT_FIELD_POLICY,
  FIELD_POLICIES,
  LOCALLY_EDITABLE_FIELDS,
  ONEROSTER_VENDORS,
  ONEROSTER_VERSIONS,
  PERSON_MERGE_RULES,
  SIS_PROVIDERS,
  type BlackoutWindow,
  type FieldPolicies,
  type FieldPolicy,
  type OneRosterVendor,
  type OneRosterVersion,
  type PersonMergeRule,
  type SisConnection,
  type SisProvider,
  type ThresholdSettings,
} from '../../domain/sis-connection.js';

/** Optional, but not nullable: `null` fails the property's validators. */
const Optional = (): PropertyDecorator => ValidateIf((_object, value) => value !== undefined);

const CLOCK_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const CALENDAR_DATE = /^\d{4}-\d{2}-\d{2}$/;

export class FieldPoliciesDto {
  @ApiPropertyOptional({ enum: FIELD_POLICIES }) @Optional() @IsIn(FIELD_POLICIES) preferredFirstName?: FieldPolicy;
  @ApiPropertyOptional({ enum: FIELD_POLICIES }) @Optional() @IsIn(FIELD_POLICIES) preferredLastName?: FieldPolicy;
  @ApiPropertyOptional({ enum: FIELD_POLICIES }) @Optional() @IsIn(FIELD_POLICIES) pronouns?: FieldPolicy;
  @ApiPropertyOptional({ enum: FIELD_POLICIES }) @Optional() @IsIn(FIELD_POLICIES) phone?: FieldPolicy;
  @ApiPropertyOptional({ enum: FIELD_POLICIES }) @Optional() @IsIn(FIELD_POLICIES) sms?: FieldPolicy;
}

const extensionMapping = (core: readonly string[], example: Record<string, string>) =>
  ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', enum: [...core] },
    example,
    description: 'OneRoster 1.2 extension value (ext:…) → the core value it means',
  });

/** Keys and values are checked by the connection policy (ext: pattern, core values). */
export class ExtensionMappingsDto {
  @extensionMapping(ORG_TYPES, { 'ext:campus': 'school' }) @Optional() @IsObject() orgType?: Record<string, OrgType>;
  @extensionMapping(ACADEMIC_SESSION_TYPES, { 'ext:trimester': 'term' })
  @Optional()
  @IsObject()
  sessionType?: Record<string, AcademicSessionType>;
  @extensionMapping(CLASS_TYPES, { 'ext:advisory': 'homeroom' })
  @Optional()
  @IsObject()
  classType?: Record<string, ClassType>;
  @extensionMapping(PERSON_ROLES, { 'ext:coTeacher': 'teacher' }) @Optional() @IsObject() role?: Record<
    string,
    PersonRole
  >;
  @extensionMapping(ENROLLMENT_ROLES, { 'ext:coTeacher': 'teacher' })
  @Optional()
  @IsObject()
  enrollmentRole?: Record<string, EnrollmentRole>;
}

export class SisAuthDto {
  @ApiProperty({ enum: ['oauth2', 'oauth1'] })
  @IsIn(['oauth2', 'oauth1'])
  type!: 'oauth2' | 'oauth1';
}

export class OAuth2AuthDto extends SisAuthDto {
  @ApiPropertyOptional({
    example: 'https://campus.district.org/campus/oauth2/token?appName=district',
    description: 'Required for OneRoster; PowerSchool uses {baseUrl}/oauth/access_token when left out',
  })
  @Optional()
  @IsString()
  @MaxLength(SETTING_LIMITS.url.maxLength)
  tokenUrl?: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(SETTING_LIMITS.credential.maxLength)
  clientId!: string;

  @ApiPropertyOptional({
    description: 'Required when creating or when switching from oauth1; left out on update, the stored one is kept',
    writeOnly: true,
  })
  @Optional()
  @IsString()
  @MinLength(1)
  @MaxLength(SETTING_LIMITS.credential.maxLength)
  clientSecret?: string;

  @ApiPropertyOptional({
    description: 'Space-separated OAuth scopes; the adapter asks for the roster read scopes when left out',
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsString()
  @MaxLength(SETTING_LIMITS.scope.maxLength)
  scope?: string | null;
}

export class OAuth1AuthDto extends SisAuthDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(SETTING_LIMITS.credential.maxLength)
  consumerKey!: string;

  @ApiPropertyOptional({
    description: 'Required when creating or when switching from oauth2; left out on update, the stored one is kept',
    writeOnly: true,
  })
  @Optional()
  @IsString()
  @MinLength(1)
  @MaxLength(SETTING_LIMITS.credential.maxLength)
  consumerSecret?: string;
}

export class PeakHoursDto {
  @ApiProperty({ example: '07:00', description: 'HH:MM, local time' })
  @IsString()
  @Matches(CLOCK_TIME, { message: 'start must be a time HH:MM (24-hour clock)' })
  start!: string;

  @ApiProperty({ example: '16:00', description: 'HH:MM, local time; before start for a window over midnight' })
  @IsString()
  @Matches(CLOCK_TIME, { message: 'end must be a time HH:MM (24-hour clock)' })
  end!: string;

  @ApiProperty({ minimum: 1, maximum: 10, example: 1 })
  @IsInt()
  @Min(SETTING_LIMITS.concurrency.min)
  @Max(SETTING_LIMITS.concurrency.max)
  concurrency!: number;

  @ApiPropertyOptional({ example: 'America/Chicago', description: "IANA zone; defaults to the schedule's" })
  @Optional()
  @IsString()
  @MaxLength(SETTING_LIMITS.timeZone.maxLength)
  timeZone?: string;
}

export class ScheduleDto {
  @ApiProperty({ example: '0 2 * * *', description: 'Five-field cron expression or @daily, @weekly, …' })
  @IsString()
  @MaxLength(SETTING_LIMITS.cron.maxLength)
  cron!: string;

  @ApiProperty({ example: 'America/Chicago', description: 'IANA time zone' })
  @IsString()
  @MaxLength(SETTING_LIMITS.timeZone.maxLength)
  timeZone!: string;
}

export class BlackoutWindowDto {
  @ApiProperty({ example: '2027-06-10', description: 'First day without scheduled runs (YYYY-MM-DD)' })
  @IsString()
  @Matches(CALENDAR_DATE, { message: 'from must be a date YYYY-MM-DD' })
  from!: string;

  @ApiProperty({ example: '2027-08-15', description: 'Last day without scheduled runs (YYYY-MM-DD), inclusive' })
  @IsString()
  @Matches(CALENDAR_DATE, { message: 'to must be a date YYYY-MM-DD' })
  to!: string;

  @ApiPropertyOptional({ example: 'Summer rollover' })
  @Optional()
  @IsString()
  @MaxLength(SETTING_LIMITS.blackoutWindows.reasonMaxLength)
  reason?: string;
}

export class ThresholdRuleDto {
  @ApiPropertyOptional({ minimum: 0, description: 'Hold the run when more records than this change' })
  @Optional()
  @IsInt()
  @Min(0)
  maxCount?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 100,
    description:
      "Hold when more than this % of the entity's active records change (reject: of the records pulled are rejected)",
  })
  @Optional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(SETTING_LIMITS.maxPercent.min)
  @Max(SETTING_LIMITS.maxPercent.max)
  maxPercent?: number;
}

export class ActionThresholdsDto {
  @ApiPropertyOptional({ type: ThresholdRuleDto })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => ThresholdRuleDto)
  create?: ThresholdRuleDto;

  @ApiPropertyOptional({ type: ThresholdRuleDto })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => ThresholdRuleDto)
  update?: ThresholdRuleDto;

  @ApiPropertyOptional({ type: ThresholdRuleDto })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => ThresholdRuleDto)
  deactivate?: ThresholdRuleDto;

  @ApiPropertyOptional({
    type: ThresholdRuleDto,
    description:
      'Records the source refused (unreadable or invalid, skipped): maxPercent counts against the records pulled. ' +
      'Default for `*`: 10 %',
  })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => ThresholdRuleDto)
  reject?: ThresholdRuleDto;
}

/** Per roster entity, or `*` for all; `{}` as a rule switches a default hold off. */
export class ThresholdsDto {
  @ApiPropertyOptional({ type: ActionThresholdsDto, description: 'Every entity without a rule of its own' })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => ActionThresholdsDto)
  '*'?: ActionThresholdsDto;

  @ApiPropertyOptional({ type: ActionThresholdsDto })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => ActionThresholdsDto)
  orgs?: ActionThresholdsDto;

  @ApiPropertyOptional({ type: ActionThresholdsDto })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => ActionThresholdsDto)
  academicSessions?: ActionThresholdsDto;

  @ApiPropertyOptional({ type: ActionThresholdsDto })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => ActionThresholdsDto)
  courses?: ActionThresholdsDto;

  @ApiPropertyOptional({ type: ActionThresholdsDto })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => ActionThresholdsDto)
  classes?: ActionThresholdsDto;

  @ApiPropertyOptional({ type: ActionThresholdsDto })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => ActionThresholdsDto)
  people?: ActionThresholdsDto;

  @ApiPropertyOptional({ type: ActionThresholdsDto })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => ActionThresholdsDto)
  demographics?: ActionThresholdsDto;

  @ApiPropertyOptional({ type: ActionThresholdsDto })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => ActionThresholdsDto)
  enrollments?: ActionThresholdsDto;
}

const isOneRoster = (body: { provider?: unknown }, value: unknown): boolean =>
  body.provider === 'oneroster' || value !== undefined;
const hasEndpoint = (body: { provider?: unknown }, value: unknown): boolean =>
  body.provider === 'oneroster' || body.provider === 'powerschool' || value !== undefined;
/** Left out where the condition above requires it: the one message the validation pipe reports for it. */
const RequiredForProvider = (): PropertyDecorator =>
  IsDefined({
    message: ({ property, object, value }) =>
      value === null
        ? `${property} must not be null`
        : `${property} is required for provider ${String((object as { provider?: unknown }).provider)}`,
  });

@ApiExtraModels(OAuth2AuthDto, OAuth1AuthDto)
export class CreateSisConnectionDto {
  @ApiProperty({ example: 'Infinite Campus (district)', maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(SETTING_LIMITS.name.maxLength)
  name!: string;

  @ApiProperty({
    enum: SIS_PROVIDERS,
    description:
      '`oneroster` or `powerschool` (pulled from the SIS), or `oneroster-csv`: a feed of uploaded OneRoster CSV ' +
      'packages (POST /sis/imports with its connectionId) with a name, version, school scope, thresholds and field ' +
      'policies but no baseUrl, auth or schedule (refused with 422)',
  })
  @IsIn(SIS_PROVIDERS)
  provider!: SisProvider;

  @ApiPropertyOptional({ enum: ONEROSTER_VERSIONS, description: 'Required for OneRoster', example: '1.2' })
  @ValidateIf(isOneRoster)
  @RequiredForProvider()
  @IsIn(ONEROSTER_VERSIONS)
  version?: OneRosterVersion;

  @ApiPropertyOptional({ enum: ONEROSTER_VENDORS, default: 'generic', description: 'Picks the defaults' })
  @Optional()
  @IsIn(ONEROSTER_VENDORS)
  vendor?: OneRosterVendor;

  @ApiPropertyOptional({
    example: 'https://campus.district.org/campus/api/ims/oneroster/rostering/v1p2',
    description:
      'The OneRoster service URL as the SIS shows it, or the PowerSchool server (https://ps.district.org); https in ' +
      'production. Required for OneRoster and PowerSchool.',
  })
  @ValidateIf(hasEndpoint)
  @RequiredForProvider()
  @IsString()
  @MaxLength(SETTING_LIMITS.url.maxLength)
  baseUrl?: string;

  @ApiPropertyOptional({
    oneOf: [{ $ref: getSchemaPath(OAuth2AuthDto) }, { $ref: getSchemaPath(OAuth1AuthDto) }],
    example: {
      type: 'oauth2',
      tokenUrl: 'https://campus.district.org/campus/oauth2/token?appName=district',
      clientId: 'homeroom-sync',
      clientSecret: 'the-secret-the-sis-issued',
    },
    description:
      'Required for OneRoster and PowerSchool. oauth1 only with OneRoster 1.1; PowerSchool takes oauth2 with the ' +
      "plugin's client ID and secret.",
  })
  @ValidateIf(hasEndpoint)
  @RequiredForProvider()
  @IsObject()
  @ValidateNested()
  @Type(() => SisAuthDto, {
    discriminator: {
      property: 'type',
      subTypes: [
        { value: OAuth2AuthDto, name: 'oauth2' },
        { value: OAuth1AuthDto, name: 'oauth1' },
      ],
    },
    keepDiscriminatorProperty: true,
  })
  auth?: OAuth2AuthDto | OAuth1AuthDto;

  @ApiPropertyOptional({ minimum: 1, maximum: 10_000, description: 'Records per page; default from the vendor (1000)' })
  @Optional()
  @IsInt()
  @Min(SETTING_LIMITS.pageSize.min)
  @Max(SETTING_LIMITS.pageSize.max)
  pageSize?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 10, description: 'Concurrent requests; default 2 (Infinite Campus 5)' })
  @Optional()
  @IsInt()
  @Min(SETTING_LIMITS.concurrency.min)
  @Max(SETTING_LIMITS.concurrency.max)
  concurrency?: number;

  @ApiPropertyOptional({
    type: PeakHoursDto,
    nullable: true,
    description: 'Fewer concurrent requests in these hours; Infinite Campus default 07:00–16:00 at 1. null: none',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => PeakHoursDto)
  peakHours?: PeakHoursDto | null;

  @ApiPropertyOptional({ minimum: 1000, maximum: 300_000, default: 30_000 })
  @Optional()
  @IsInt()
  @Min(SETTING_LIMITS.requestTimeoutMs.min)
  @Max(SETTING_LIMITS.requestTimeoutMs.max)
  requestTimeoutMs?: number;

  @ApiPropertyOptional({ type: ScheduleDto, nullable: true, description: 'Scheduled runs; null or left out: none' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ScheduleDto)
  schedule?: ScheduleDto | null;

  @ApiPropertyOptional({ type: [BlackoutWindowDto] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(SETTING_LIMITS.blackoutWindows.maxItems)
  @ValidateNested({ each: true })
  @Type(() => BlackoutWindowDto)
  blackoutWindows?: BlackoutWindowDto[];

  @ApiPropertyOptional({ type: [String], description: 'Org sourcedIds of the schools to sync; empty: the district' })
  @Optional()
  @IsArray()
  @ArrayMaxSize(SETTING_LIMITS.schoolScope.maxItems)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(SETTING_LIMITS.schoolScope.maxLength, { each: true })
  schoolScope?: string[];

  @ApiPropertyOptional({
    type: ThresholdsDto,
    description:
      'Mass-change and rejected-record holds. Defaults kept unless overridden: * deactivate maxPercent 10, ' +
      '* update maxPercent 50, * reject maxPercent 10',
  })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => ThresholdsDto)
  thresholds?: ThresholdsDto;

  @ApiPropertyOptional({ minimum: 0, maximum: 86_400, default: 300 })
  @Optional()
  @IsInt()
  @Min(SETTING_LIMITS.deltaOverlapSeconds.min)
  @Max(SETTING_LIMITS.deltaOverlapSeconds.max)
  deltaOverlapSeconds?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 365, default: 7 })
  @Optional()
  @IsInt()
  @Min(SETTING_LIMITS.fullReconciliationDays.min)
  @Max(SETTING_LIMITS.fullReconciliationDays.max)
  fullReconciliationDays?: number;

  @ApiPropertyOptional({
    enum: PERSON_MERGE_RULES,
    description: 'Default: ic-role-prefix for Infinite Campus 1.1, identifier for other 1.1, none for 1.2',
  })
  @Optional()
  @IsIn(PERSON_MERGE_RULES)
  personMergeRule?: PersonMergeRule;

  @ApiPropertyOptional({
    type: () => FieldPoliciesDto,
    description: 'Who owns each locally editable person field: sis, local or sticky (default sticky)',
  })
  @Optional()
  @ValidateNested()
  @Type(() => FieldPoliciesDto)
  fieldPolicies?: FieldPoliciesDto;

  @ApiPropertyOptional({
    type: () => ExtensionMappingsDto,
    description:
      'OneRoster 1.2: what extension values (ext:…) of each vocabulary mean, e.g. {"orgType": {"ext:campus": "school"}}. ' +
      'An unmapped extension value is stored as given with no core meaning (an org type is no school, a role grants ' +
      'nothing) and reported once per run as a warning. Replaces the stored mappings whole; default {}',
  })
  @Optional()
  @ValidateNested()
  @Type(() => ExtensionMappingsDto)
  extensionMappings?: ExtensionMappingsDto;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description:
      'PowerSchool only: a named PowerQuery listing every section enrollment (with DCIDs), read instead of one ' +
      'request per section, e.g. com.district.sync.section_enrollments. null or left out: per section.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  enrollmentPowerQuery?: string | null;

  @ApiPropertyOptional({ default: true, description: 'A disabled connection keeps its settings but does not sync' })
  @Optional()
  @IsBoolean()
  enabled?: boolean;
}

/**
 * Every field optional (`null` only where it means "none": schedule, peakHours, auth.scope); nested objects
 * replace the stored ones whole. The provider cannot change.
 */
export class UpdateSisConnectionDto extends PartialType(OmitType(CreateSisConnectionDto, ['provider'] as const), {
  skipNullProperties: false,
}) {}

export class SisAuthViewDto {
  @ApiProperty({ enum: ['oauth2', 'oauth1', 'none'] }) type!: 'oauth2' | 'oauth1' | 'none';
  @ApiPropertyOptional() tokenUrl?: string;
  @ApiPropertyOptional() clientId?: string;
  @ApiPropertyOptional() scope?: string;
  @ApiPropertyOptional() consumerKey?: string;
}

export class PeakHoursViewDto {
  @ApiProperty() start!: string;
  @ApiProperty() end!: string;
  @ApiProperty() concurrency!: number;
  @ApiProperty() timeZone!: string;
}

export class SisConnectionDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: SIS_PROVIDERS }) provider!: SisProvider;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ enum: ONEROSTER_VERSIONS, nullable: true, type: String }) version!: OneRosterVersion | null;
  @ApiProperty({ enum: ONEROSTER_VENDORS }) vendor!: OneRosterVendor;
  @ApiProperty({ nullable: true, type: String }) baseUrl!: string | null;
  @ApiProperty({ type: SisAuthViewDto, description: 'Never contains the secret' }) auth!: SisAuthViewDto;
  @ApiProperty({ description: 'A client or consumer secret is stored (it is never returned)' }) hasSecret!: boolean;
  @ApiProperty() pageSize!: number;
  @ApiProperty() concurrency!: number;
  @ApiProperty({ type: PeakHoursViewDto, nullable: true }) peakHours!: PeakHoursViewDto | null;
  @ApiProperty() requestTimeoutMs!: number;
  @ApiProperty({ type: ScheduleDto, nullable: true }) schedule!: ScheduleDto | null;
  @ApiProperty({ type: [BlackoutWindowDto] }) blackoutWindows!: BlackoutWindow[];
  @ApiProperty({ type: [String] }) schoolScope!: string[];
  @ApiProperty({ type: ThresholdsDto }) thresholds!: ThresholdSettings;
  @ApiProperty() deltaOverlapSeconds!: number;
  @ApiProperty() fullReconciliationDays!: number;
  @ApiProperty({ enum: PERSON_MERGE_RULES }) personMergeRule!: PersonMergeRule;
  @ApiProperty({ type: () => FieldPoliciesDto }) fieldPolicies!: FieldPolicies;
  @ApiPropertyOptional({ type: () => ExtensionMappingsDto, description: 'OneRoster connections only' })
  extensionMappings?: ExtensionMappings;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'PowerSchool connections only' })
  enrollmentPowerQuery?: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  /** Built field by field, so nothing stored beside the settings (the secret) can leak into a response. */
  static from(connection: SisConnection): SisConnectionDto {
    const { settings } = connection;
    const auth: SisAuthViewDto =
      settings.auth.type === 'oauth2'
        ? {
            type: 'oauth2',
            tokenUrl: settings.auth.tokenUrl,
            clientId: settings.auth.clientId,
            ...(settings.auth.scope ? { scope: settings.auth.scope } : {}),
          }
        : settings.auth.type === 'oauth1'
          ? { type: 'oauth1', consumerKey: settings.auth.consumerKey }
          : { type: 'none' };
    return {
      id: connection.id,
      name: connection.name,
      provider: connection.provider,
      enabled: connection.enabled,
      version: settings.version,
      vendor: settings.vendor,
      baseUrl: settings.baseUrl,
      auth,
      hasSecret: connection.hasSecret,
      pageSize: settings.pageSize,
      concurrency: settings.concurrency,
      peakHours: settings.peakHours
        ? {
            start: settings.peakHours.start,
            end: settings.peakHours.end,
            concurrency: settings.peakHours.concurrency,
            timeZone: settings.peakHours.timeZone ?? 'UTC',
          }
        : null,
      requestTimeoutMs: settings.requestTimeoutMs,
      schedule: settings.schedule ? { cron: settings.schedule.cron, timeZone: settings.schedule.timeZone } : null,
      blackoutWindows: settings.blackoutWindows,
      schoolScope: settings.schoolScope,
      thresholds: settings.thresholds,
      deltaOverlapSeconds: settings.deltaOverlapSeconds,
      fullReconciliationDays: settings.fullReconciliationDays,
      personMergeRule: settings.personMergeRule,
      fieldPolicies: Object.fromEntries(
        LOCALLY_EDITABLE_FIELDS.map((field) => [field, settings.fieldPolicies?.[field] ?? DEFAULT_FIELD_POLICY]),
      ),
      ...(connection.provider === 'powerschool'
        ? { enrollmentPowerQuery: settings.enrollmentPowerQuery ?? null }
        : { extensionMappings: settings.extensionMappings ?? {} }),
      createdAt: connection.createdAt.toISOString(),
      updatedAt: connection.updatedAt.toISOString(),
    };
  }
}

export class SisConnectionListDto {
  @ApiProperty({ type: [SisConnectionDto] }) items!: SisConnectionDto[];
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength, ValidateIf, ValidateNested } from 'class-validator';
import type { PersonLocalState } from '../../domain/local-person-fields.js';

const nullable = (): PropertyDecorator => ValidateIf((_object, value) => value !== null && value !== undefined);

export class ContactPreferencesDto {
  @ApiPropertyOptional() @IsOptional() @IsBoolean() email?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() sms?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() phone?: boolean;

  @ApiPropertyOptional({ description: 'BCP 47 language for messages home, e.g. es' })
  @IsOptional()
  @Matches(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { message: 'language must be a BCP 47 tag such as es or zh-Hant' })
  language?: string;
}

/** Locally owned fields; send `null` to blank a field locally. Anything else is refused (400). */
export class EditPersonLocalFieldsDto {
  @ApiPropertyOptional({ nullable: true }) @nullable() @IsString() @MaxLength(200) preferredFirstName?: string | null;
  @ApiPropertyOptional({ nullable: true }) @nullable() @IsString() @MaxLength(200) preferredLastName?: string | null;
  @ApiPropertyOptional({ nullable: true, example: 'she/her' })
  @nullable()
  @IsString()
  @MaxLength(60)
  pronouns?: string | null;
  @ApiPropertyOptional({ nullable: true }) @nullable() @IsString() @MaxLength(40) phone?: string | null;
  @ApiPropertyOptional({ nullable: true }) @nullable() @IsString() @MaxLength(40) sms?: string | null;

  @ApiPropertyOptional({ description: 'FERPA 99.37 directory-information opt-out; a sync never clears it' })
  @IsOptional()
  @IsBoolean()
  directoryOptOut?: boolean;

  @ApiPropertyOptional({ type: ContactPreferencesDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ContactPreferencesDto)
  contactPreferences?: ContactPreferencesDto;
}

export class PersonLocalStateDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'Per field: the local value, the SIS value it replaced, who and when' })
  localEdits!: PersonLocalState['localEdits'];
  @ApiProperty() directoryOptOut!: boolean;
  @ApiProperty({ type: ContactPreferencesDto }) contactPreferences!: PersonLocalState['contactPreferences'];

  static from(state: PersonLocalState): PersonLocalStateDto {
    return {
      id: state.id,
      localEdits: state.localEdits,
      directoryOptOut: state.directoryOptOut,
      contactPreferences: state.contactPreferences,
    };
  }
}

import { ApiProperty, ApiPropertyOptional, PartialType, PickType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { Type } from 'class-transformer';
import { ROLES, type Role } from '../../domain/role.js';
import { MAX_PASSWORD_LENGTH } from '../../domain/password-policy.js';
import type { User } from '../../domain/user.js';

export class LoginDto {
  @ApiProperty({ example: 'teacher@district.org' })
  @IsString()
  @MaxLength(320)
  email!: string;

  @ApiProperty({ example: 'correct-horse-battery-staple' })
  @IsString()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password!: string;
}

export class RefreshDto {
  @ApiProperty({ example: 'Jx0f3mQ8uV2nYcRkP5sWbL7tHdA9eG1i' })
  @IsString()
  @MinLength(16)
  @MaxLength(200)
  refreshToken!: string;
}

export class TokenPairDto {
  @ApiProperty({ description: 'JWT for the Authorization: Bearer header' }) accessToken!: string;
  @ApiProperty({ description: 'Opaque; use once with /auth/refresh' }) refreshToken!: string;
  @ApiProperty({ description: 'Access-token lifetime in seconds' }) expiresIn!: number;
}

export class CreateUserDto {
  @ApiProperty({ example: 'ms.rivera@district.org' })
  @IsEmail()
  @MaxLength(320)
  email!: string;

  @ApiProperty({ example: 'Ms. Rivera' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  displayName!: string;

  @ApiProperty({ minLength: 12, example: 'a-long-enough-passphrase-2026' })
  @IsString()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password!: string;

  @ApiPropertyOptional({ enum: ROLES, isArray: true, default: ['teacher'] })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(ROLES, { each: true })
  roles?: Role[];

  @ApiPropertyOptional({ type: [String], description: 'Schools this user is scoped to' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  schoolIds?: string[];
}

/** Every field optional; email is the sign-in identity and cannot be changed here. */
export class UpdateUserDto extends PartialType(
  PickType(CreateUserDto, ['displayName', 'roles', 'schoolIds', 'password']),
) {
  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

export class ListUsersQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}

export class UserDto {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles!: Role[];
  @ApiProperty({ type: [String] }) schoolIds!: string[];
  @ApiProperty() disabled!: boolean;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  static from(user: User): UserDto {
    return {
      id: user.id,
      email: user.email,
      displayName: user.displayName,
      roles: user.roles,
      schoolIds: user.schoolIds,
      disabled: user.disabled,
      createdAt: user.createdAt.toISOString(),
      updatedAt: user.updatedAt.toISOString(),
    };
  }
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] }) items!: UserDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class MeDto {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles!: Role[];
  @ApiProperty({ type: [String] }) schoolIds!: string[];
}

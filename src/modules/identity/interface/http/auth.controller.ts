import { AuditExempt } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { Body, Controller, Get, HttpCode, Ip, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedUser } from '../../application/authenticated-user.js';
import { LoginCommand } from '../../application/commands/login.command.js';
import { LogoutCommand } from '../../application/commands/logout.command.js';
import { RefreshTokensCommand } from '../../application/commands/refresh-tokens.command.js';
import { AuthRateLimited, CurrentUser, Public } from './auth.decorators.js';
import { LoginDto, MeDto, RefreshDto, TokenPairDto } from './identity.dtos.js';

@ApiTags('auth')
@AuditExempt('Sign-in and sessions, no student records')
@Controller('auth')
export class AuthController {
  constructor(private readonly commands: CommandBus) {}

  @Public()
  @AuthRateLimited()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with email and password' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems({ 401: ['IDENTITY.INVALID_CREDENTIALS'], 429: ['IDENTITY.TOO_MANY_SIGN_IN_ATTEMPTS'] })
  login(@Body() body: LoginDto, @Ip() ip: string | undefined): Promise<TokenPairDto> {
    return this.commands.execute(new LoginCommand(body.email, body.password, ip ?? 'unknown'));
  }

  @Public()
  @AuthRateLimited()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a refresh token for a new pair (the old one stops working)' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems({ 401: ['IDENTITY.REFRESH_TOKEN_INVALID', 'IDENTITY.REFRESH_TOKEN_REUSED'] })
  refresh(@Body() body: RefreshDto): Promise<TokenPairDto> {
    return this.commands.execute(new RefreshTokensCommand(body.refreshToken));
  }

  @ApiBearerAuth()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'End this session: its access and refresh tokens stop working at once' })
  @ApiNoContentResponse({ description: 'Signed out' })
  async logout(@CurrentUser() user: AuthenticatedUser): Promise<void> {
    await this.commands.execute(new LogoutCommand(user.sessionId));
  }

  @ApiBearerAuth()
  @Get('me')
  @ApiOperation({ summary: 'The signed-in user: roles and school scope' })
  @ApiOkResponse({ type: MeDto })
  me(@CurrentUser() user: AuthenticatedUser): MeDto {
    return {
      id: user.id,
      email: user.email,
      displayName: user.displayName,
      roles: user.roles,
      schoolIds: user.schoolIds,
    };
  }
}

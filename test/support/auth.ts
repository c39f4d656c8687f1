import request from 'supertest';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './test-app.js';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export async function login(url: string, email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<TokenPair> {
  const response = await request(url).post('/api/v1/auth/login').send({ email, password });
  if (response.status !== 200) {
    throw new Error(`Login as ${email} failed with ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body as TokenPair;
}

export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

/**
 * JSON schemas of user and site input, shared by the HTTP routes (fastify
 * validates with them) and the CSV import (validated with the core's ajv),
 * so a CSV line is held to exactly the rules of the API.
 */
import { NAME_PATTERN, PHONE_PATTERN } from './addresses.ts';

const name = { type: 'string', pattern: NAME_PATTERN } as const;
const password = { type: 'string', minLength: 8, maxLength: 256 } as const;

const userFields = {
  displayName: { type: 'string', minLength: 1, maxLength: 255 },
  aliases: { type: 'array', maxItems: 20, uniqueItems: true, items: name },
  phone: { type: 'string', pattern: PHONE_PATTERN },
  email: { type: 'string', format: 'email', maxLength: 254 },
  groups: { type: 'array', maxItems: 50, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64 } },
  role: { type: 'string', enum: ['user', 'site-admin'] },
  enabled: { type: 'boolean' },
} as const;

export const createUserSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  properties: { username: name, password, ...userFields },
} as const;

/** `null` clears phone or e-mail. Username and password change elsewhere (HA1 depends on both). */
export const updateUserSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    ...userFields,
    phone: { anyOf: [userFields.phone, { type: 'null' }] },
    email: { anyOf: [userFields.email, { type: 'null' }] },
  },
} as const;

export const resetPasswordSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['password'],
  properties: { password },
} as const;

export const changePasswordSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['oldPassword', 'newPassword'],
  properties: { oldPassword: { type: 'string', minLength: 1, maxLength: 1024 }, newPassword: password },
} as const;

export const createSiteSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['domain'],
  properties: {
    domain: { type: 'string', format: 'hostname', minLength: 1, maxLength: 253 },
    name: { type: 'string', minLength: 1, maxLength: 255 },
    theme: { type: 'string', minLength: 1, maxLength: 64 },
  },
} as const;

export const updateSiteSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: { anyOf: [{ type: 'string', minLength: 1, maxLength: 255 }, { type: 'null' }] },
    theme: { anyOf: [{ type: 'string', minLength: 1, maxLength: 64 }, { type: 'null' }] },
  },
} as const;

export interface CreateUserInput {
  username: string;
  password: string;
  displayName?: string;
  aliases?: string[];
  phone?: string;
  email?: string;
  groups?: string[];
  role?: 'user' | 'site-admin';
  enabled?: boolean;
}

export interface UpdateUserInput {
  displayName?: string;
  aliases?: string[];
  phone?: string | null;
  email?: string | null;
  groups?: string[];
  role?: 'user' | 'site-admin';
  enabled?: boolean;
}

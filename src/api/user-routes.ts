/**
 * Console users (admin only, by the route policy): list, create, change (name, role, language,
 * password), delete. Changing a password or deleting a user ends their sessions; the last admin
 * can be neither demoted nor deleted. Passwords are never returned nor logged.
 *
 * @example
 *   POST /api/users {"email":"ana@shop.example","name":"Ana","role":"marketer","password":"…","locale":"fr"} → 201 {id,…}
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ErrorResponse } from './error-handler.js';
import { Locale, RoleSchema, UserView } from './auth-routes.js';
import { MAX_PASSWORD_LENGTH } from '../auth/passwords.js';
import type { UserService } from '../auth/users.js';

const IdParams = Type.Object({ id: Type.String() });
const NewUserBody = Type.Object({
  email: Type.String({ minLength: 3, maxLength: 320 }),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  role: RoleSchema,
  password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
  locale: Type.Optional(Locale),
}, { additionalProperties: false });
const PatchBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  role: Type.Optional(RoleSchema),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH })),
  locale: Type.Optional(Locale),
}, { additionalProperties: false });
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };

export function registerUserRoutes(app: FastifyInstance, deps: { users: UserService }): void {
  app.get('/api/users', {
    schema: { tags: ['users'], summary: 'List console users', response: { 200: Type.Object({ users: Type.Array(UserView) }), ...errors } },
  }, async () => ({ users: deps.users.list() }));

  app.post<{ Body: Static<typeof NewUserBody> }>('/api/users', {
    schema: { tags: ['users'], summary: 'Create a console user', body: NewUserBody, response: { 201: UserView, ...errors } },
  }, async (req, reply) => reply.code(201).send(await deps.users.create(req.body)));

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PatchBody> }>('/api/users/:id', {
    schema: { tags: ['users'], summary: 'Change a user (a new password ends their sessions)', params: IdParams, body: PatchBody, response: { 200: UserView, ...errors } },
  }, async (req) => deps.users.update(req.params.id, req.body));

  app.delete<{ Params: Static<typeof IdParams> }>('/api/users/:id', {
    schema: { tags: ['users'], summary: 'Delete a user and end their sessions', params: IdParams, response: { 204: Type.Null(), ...errors } },
  }, async (req, reply) => {
    await deps.users.remove(req.params.id);
    return reply.code(204).send();
  });
}

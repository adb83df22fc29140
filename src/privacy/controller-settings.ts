/**
 * Who is responsible for a workspace's processing: the controller, its data protection officer
 * and its EU representative (GDPR art. 30(1)(a)), stored as the workspace setting `controller`
 * and held in memory like the other privacy settings.
 *
 * Until someone sets them, the details default to the workspace's name and nothing else: the
 * register then lists what is missing instead of inventing a controller.
 *
 * @example
 *   const controller = new ControllerSettings(store);
 *   await controller.load();
 *   await controller.set(ws, { controllerName: 'Acme SAS', controllerContact: 'privacy@acme.example' });
 *   controller.get(ws).missing; // []
 */
import { Type, type Static } from '@sinclair/typebox';
import { checkValue } from '../platform/check-value.js';
import { EnsembleError } from '../protocol/errors.js';
import type { ConfigStore } from '../storage/ports.js';

const SETTING = 'controller';

/** What the DPO (or whoever keeps the register) enters. */
export const ControllerInput = Type.Object({
  /** The legal entity, e.g. `Acme SAS`. */
  controllerName: Type.String({ minLength: 1, maxLength: 200 }),
  controllerAddress: Type.Optional(Type.String({ maxLength: 1000 })),
  /** How people and authorities reach the controller about their data (email, postal address, form). */
  controllerContact: Type.String({ minLength: 1, maxLength: 500 }),
  dpoName: Type.Optional(Type.String({ maxLength: 200 })),
  dpoContact: Type.Optional(Type.String({ maxLength: 500 })),
  /** The representative in the EU, for a controller established outside it (art. 27). */
  representative: Type.Optional(Type.String({ maxLength: 1000 })),
}, { additionalProperties: false });
export type ControllerInputT = Static<typeof ControllerInput>;

/** The fields art. 30(1)(a) always requires; the DPO and representative are "where applicable". */
export const REQUIRED_CONTROLLER_FIELDS = ['controllerName', 'controllerContact'] as const;

const Text = Type.Union([Type.String(), Type.Null()]);

/** The details as the register uses them: null where nothing was set. */
export const ControllerView = Type.Object({
  controllerName: Type.String(),
  controllerAddress: Text,
  controllerContact: Text,
  dpoName: Text,
  dpoContact: Text,
  representative: Text,
  /** False while the details are the defaults (nothing was ever set). */
  configured: Type.Boolean(),
  /** Required fields not set; `controllerName` is listed while it is only the workspace's name. */
  missing: Type.Array(Type.Union(REQUIRED_CONTROLLER_FIELDS.map((f) => Type.Literal(f)))),
});
export type ControllerDetails = Static<typeof ControllerView>;

export class ControllerSettings {
  private readonly byWs = new Map<string, ControllerInputT>();

  constructor(private readonly store: ConfigStore) {}

  async load(): Promise<void> {
    for (const [ws, json] of await this.store.workspaceSettings(SETTING)) this.byWs.set(ws, JSON.parse(json) as ControllerInputT);
  }

  /** The workspace's details, or the defaults drawn from its name. */
  get(workspace: { id: string; name: string }): ControllerDetails {
    const set = this.byWs.get(workspace.id);
    if (!set) {
      return {
        controllerName: workspace.name, controllerAddress: null, controllerContact: null, dpoName: null, dpoContact: null,
        representative: null, configured: false, missing: [...REQUIRED_CONTROLLER_FIELDS],
      };
    }
    return {
      controllerName: set.controllerName, controllerAddress: set.controllerAddress ?? null, controllerContact: set.controllerContact,
      dpoName: set.dpoName ?? null, dpoContact: set.dpoContact ?? null, representative: set.representative ?? null,
      configured: true, missing: [],
    };
  }

  /** Replaces the details (fields left out are cleared: the body is the whole record). */
  async set(workspace: { id: string; name: string }, input: unknown): Promise<ControllerDetails> {
    checkValue(ControllerInput, input, 'ENSEMBLE_ERR_VALIDATION', 'The controller details are not valid; see details.');
    const clean = tidy(input);
    for (const f of REQUIRED_CONTROLLER_FIELDS) {
      if (clean[f] === '') throw new EnsembleError('ENSEMBLE_ERR_VALIDATION', `${f} cannot be blank.`, [{ path: `/${f}`, message: 'blank' }]);
    }
    await this.store.setWorkspaceSetting(workspace.id, SETTING, JSON.stringify(clean));
    this.byWs.set(workspace.id, clean);
    return this.get(workspace);
  }
}

/**
 * Surrounding spaces trimmed, and blank optional fields dropped: a form that sends `""` for "no
 * DPO" must read as not set, not as a DPO with an empty name.
 */
function tidy(input: ControllerInputT): ControllerInputT {
  const out: ControllerInputT = { controllerName: input.controllerName.trim(), controllerContact: input.controllerContact.trim() };
  for (const k of ['controllerAddress', 'dpoName', 'dpoContact', 'representative'] as const) {
    const v = input[k]?.trim();
    if (v) out[k] = v;
  }
  return out;
}

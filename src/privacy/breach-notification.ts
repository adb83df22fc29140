/**
 * The draft notification of a breach to the supervisory authority, following GDPR art. 33(3):
 * (a) the nature of the breach, with the categories and approximate number of people and of
 * records; (b) the DPO or other contact point; (c) the likely consequences; (d) the measures taken
 * or proposed. Then the reasons for a delay when it comes after the 72 hours (art. 33(1)) and
 * whether the people themselves must be told (art. 34).
 *
 * A draft, not a filing: authorities have their own forms. It gathers what the record holds, says
 * which figures are estimates, and lists what is still to complete rather than inventing it.
 * JSON and Markdown render one draft; in Markdown every value is escaped, since the texts are typed
 * by users and the document is opened in viewers that render HTML.
 *
 * @example
 *   const draft = draftNotification({ breach, workspace, controller: controllerSettings.get(workspace), events, now: clock.now() });
 *   renderNotificationMarkdown(draft).startsWith('# Notification of a personal data breach'); // true
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ControllerDetails } from './controller-settings.js';
import { DATA_CATEGORY_LABELS, DATA_SUBJECT_LABELS } from './register.js';
import type { SecurityEvent } from './security-monitor.js';
import { estimateFromEvents, type Breach } from './breaches.js';

const Figure = Type.Object({
  value: Type.Union([Type.Integer(), Type.Null()]),
  estimated: Type.Boolean(),
  text: Type.String(),
});

export const NotificationView = Type.Object({
  title: Type.String(),
  breachId: Type.String(),
  workspace: Type.Object({ id: Type.String(), name: Type.String() }),
  generatedAt: Type.String({ format: 'date-time' }),
  status: Type.String(),
  deadline: Type.Object({
    awareAt: Type.String({ format: 'date-time' }),
    notifyBy: Type.String({ format: 'date-time' }),
    hoursLeft: Type.Union([Type.Number(), Type.Null()]),
    overdue: Type.Boolean(),
    notifiedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  }),
  controller: Type.Object({ name: Type.String(), address: Type.Union([Type.String(), Type.Null()]), contact: Type.Union([Type.String(), Type.Null()]) }),
  nature: Type.Object({
    description: Type.String(),
    dataCategories: Type.Array(Type.String()),
    dataSubjects: Type.Array(Type.String()),
    approxPeople: Figure,
    approxRecords: Figure,
  }, { description: 'Art. 33(3)(a).' }),
  contact: Type.Object({ dpoName: Type.Union([Type.String(), Type.Null()]), dpoContact: Type.Union([Type.String(), Type.Null()]), text: Type.String() }, { description: 'Art. 33(3)(b).' }),
  consequences: Type.Object({ text: Type.String(), toComplete: Type.Boolean() }, { description: 'Art. 33(3)(c).' }),
  measures: Type.String({ description: 'Art. 33(3)(d).' }),
  delay: Type.Object({ required: Type.Boolean(), text: Type.String() }, { description: 'Art. 33(1): reasons for a notification after 72 hours.' }),
  informingPeople: Type.Object({ highRisk: Type.Union([Type.Boolean(), Type.Null()]), text: Type.String() }, { description: 'Art. 34.' }),
  securityEvents: Type.Array(Type.Object({ id: Type.String(), kind: Type.String(), detectedAt: Type.String({ format: 'date-time' }), summary: Type.String() })),
  toComplete: Type.Array(Type.String()),
});
export type NotificationDraft = Static<typeof NotificationView>;

export interface NotificationInput {
  breach: Breach;
  workspace: { id: string; name: string };
  controller: ControllerDetails;
  /** The breach's linked security events (for the basis of estimates). */
  events: readonly SecurityEvent[];
  now: number;
}

const TO_COMPLETE = 'To complete';
const iso = (ms: number) => new Date(ms).toISOString();

export function draftNotification(input: NotificationInput): NotificationDraft {
  const { breach: b, controller: c, now } = input;
  const estimate = estimateFromEvents(input.events);
  const open = b.status === 'open';
  const todo: string[] = [];

  const basis = `estimate from security event${estimate.from.length === 1 ? '' : 's'} ${estimate.from.join(', ') || '(none)'}`;
  let peopleText: string;
  if (b.approxPeople === null) {
    peopleText = `Unknown. ${TO_COMPLETE}: the approximate number of people concerned.`;
    todo.push('The approximate number of people concerned.');
  } else if (b.peopleEstimated) {
    const members = estimate.memberLists > 0 ? `; ${estimate.memberLists} segment member list${estimate.memberLists === 1 ? ' was' : 's were'} read too, whose members are not counted here` : '';
    peopleText = `About ${estimate.atLeast ? 'at least ' : ''}${b.approxPeople} people (${basis}: distinct profiles and access bundles read, each lookup counted as one person${members}). To confirm.`;
  } else {
    peopleText = `About ${b.approxPeople} people.`;
  }
  let recordsText: string;
  if (b.approxRecords === null) {
    recordsText = `Unknown. ${TO_COMPLETE}: the approximate number of personal data records concerned.`;
    todo.push('The approximate number of personal data records concerned.');
  } else if (b.recordsEstimated) {
    recordsText = `About ${b.approxRecords} records (${basis}: answers holding personal data that were read). To confirm.`;
  } else {
    recordsText = `About ${b.approxRecords} records.`;
  }

  let contactText: string;
  if (c.dpoContact !== null) {
    contactText = `Data protection officer${c.dpoName ? `: ${c.dpoName}` : ''}, ${c.dpoContact}.`;
  } else if (c.controllerContact !== null) {
    contactText = `No DPO contact recorded; contact point: ${c.controllerContact}${c.dpoName ? ` (DPO: ${c.dpoName})` : ''}.`;
  } else {
    contactText = `Not set. ${TO_COMPLETE}: the DPO or another contact point (PUT /api/workspaces/${input.workspace.id}/privacy/controller).`;
    todo.push('The DPO or another contact point where more information can be obtained.');
  }
  if (c.missing.includes('controllerName')) todo.push('The controller\'s legal name (the workspace name stands in for it).');

  if (b.consequences === null) todo.push('The likely consequences for the people concerned.');
  const consequences = b.consequences ?? `${TO_COMPLETE}: describe the likely consequences for the people concerned (for example phishing with their contact details, loss of confidentiality of their activity or purchases, identity fraud).`;

  const late = b.notifiedAt !== null ? b.notifiedAt > b.notifyBy : now > b.notifyBy;
  if (late && b.delayReason === null) todo.push('The reasons for the delay: the notification is after the 72 hours.');
  const delayText = !late
    ? `Within the 72 hours: aware ${iso(b.awareAt)}, deadline ${iso(b.notifyBy)}.`
    : b.delayReason ?? `${TO_COMPLETE}: the notification comes after the 72 hours (deadline ${iso(b.notifyBy)}), so it must give the reasons for the delay (art. 33(1)).`;

  if (b.highRisk === null) todo.push('Whether the breach is likely to result in a high risk to people (art. 34).');
  const informing = b.highRisk === true
    ? 'Assessed as likely to result in a high risk to the rights and freedoms of the people concerned: they must be told without undue delay (art. 34(1)), in clear and plain language, with at least the information of points (b), (c) and (d) (art. 34(2)), unless art. 34(3) applies: the data was unintelligible to anyone not authorised (e.g. encrypted), later measures make the high risk no longer likely, or telling each person would involve disproportionate effort (then a public communication instead).'
    : b.highRisk === false
      ? 'Assessed as not likely to result in a high risk to the people concerned: they need not be told (art. 34). The supervisory authority may still require it (art. 34(4)).'
      : `Not assessed yet. ${TO_COMPLETE}: if the breach is likely to result in a high risk to the rights and freedoms of people, they must also be told without undue delay (art. 34).`;

  return {
    title: 'Notification of a personal data breach to the supervisory authority (GDPR art. 33)',
    breachId: b.id,
    workspace: input.workspace,
    generatedAt: iso(now),
    status: b.status,
    deadline: {
      awareAt: iso(b.awareAt), notifyBy: iso(b.notifyBy), hoursLeft: open ? Math.round((b.notifyBy - now) / 360_000) / 10 : null,
      overdue: open && now > b.notifyBy, notifiedAt: b.notifiedAt === null ? null : iso(b.notifiedAt),
    },
    controller: { name: c.controllerName, address: c.controllerAddress, contact: c.controllerContact },
    nature: {
      description: b.nature,
      dataCategories: b.categories.map((k) => DATA_CATEGORY_LABELS[k]),
      dataSubjects: b.dataSubjects.map((k) => DATA_SUBJECT_LABELS[k]),
      approxPeople: { value: b.approxPeople, estimated: b.peopleEstimated, text: peopleText },
      approxRecords: { value: b.approxRecords, estimated: b.recordsEstimated, text: recordsText },
    },
    contact: { dpoName: c.dpoName, dpoContact: c.dpoContact, text: contactText },
    consequences: { text: consequences, toComplete: b.consequences === null },
    measures: b.measures,
    delay: { required: late, text: delayText },
    informingPeople: { highRisk: b.highRisk, text: informing },
    securityEvents: input.events.map((e) => ({ id: e.id, kind: e.kind, detectedAt: iso(e.detectedAt), summary: eventSummary(e) })),
    toComplete: todo,
  };
}

function eventSummary(e: SecurityEvent): string {
  const d = e.detail;
  const between = typeof d.firstAt === 'number' && typeof d.lastAt === 'number' ? ` between ${iso(d.firstAt)} and ${iso(d.lastAt)}` : '';
  if (e.kind === 'auth-failure-spike') return `${String(d.count)} refused API tokens${between} (threshold ${String(d.threshold)} in ${String(d.windowSeconds)} s).`;
  return `${String(d.reads)} reads of personal data with the ${String(d.actor)} token, ${String(d.distinctProfiles)} distinct profiles or bundles${between} (threshold ${String(d.threshold)} in ${String(d.windowSeconds)} s).`;
}

/**
 * Markdown: every ASCII character with a meaning inline (emphasis, code, links, raw HTML, table
 * cells, entities, headings) is backslash-escaped, line breaks become spaces, and a leading list
 * or rule marker is escaped too, so typed text can neither start a block nor inject HTML into a
 * viewer that renders it.
 */
function md(text: string): string {
  return text.replace(/\r\n|\r|\n/g, ' ').trimStart().replace(/[\\`*_[\]<>&|~#]/g, '\\$&')
    .replace(/^[-+=]/, '\\$&').replace(/^(\d+)([.)])/, '$1\\$2');
}

export function renderNotificationMarkdown(d: NotificationDraft): string {
  const out: string[] = [];
  const h = (level: number, text: string) => out.push(`${'#'.repeat(level)} ${md(text)}`, '');
  const p = (text: string) => out.push(md(text), '');
  const item = (label: string, value: string) => out.push(`- **${md(label)}:** ${md(value)}`);
  const list = (items: readonly string[]) => {
    for (const i of items) out.push(`- ${md(i)}`);
    if (items.length === 0) out.push('- none recorded');
    out.push('');
  };

  h(1, d.title);
  p(`Draft generated ${d.generatedAt} from breach record ${d.breachId} (workspace ${d.workspace.name}, ${d.workspace.id}). Status: ${d.status}.`);
  if (d.toComplete.length > 0) {
    h(2, 'To complete before sending');
    list(d.toComplete);
  }
  h(2, 'Deadline');
  item('Controller became aware', d.deadline.awareAt);
  item('Notify by (72 hours)', d.deadline.notifyBy);
  if (d.deadline.notifiedAt !== null) item('Notified', d.deadline.notifiedAt);
  else item('Time left', d.deadline.overdue ? `OVERDUE by ${Math.abs(d.deadline.hoursLeft ?? 0)} hours` : `${d.deadline.hoursLeft ?? 0} hours`);
  out.push('');
  h(2, 'Controller');
  item('Name', d.controller.name);
  item('Address', d.controller.address ?? 'not set');
  item('Contact', d.controller.contact ?? 'not set');
  out.push('');
  h(2, '(a) Nature of the breach');
  p(d.nature.description);
  item('Categories of personal data', d.nature.dataCategories.join('; '));
  item('Categories of people concerned', d.nature.dataSubjects.length > 0 ? d.nature.dataSubjects.join('; ') : `${TO_COMPLETE} (for example customers, website visitors)`);
  item('Approximate number of people concerned', d.nature.approxPeople.text);
  item('Approximate number of personal data records concerned', d.nature.approxRecords.text);
  out.push('');
  h(2, '(b) Contact point for more information');
  p(d.contact.text);
  h(2, '(c) Likely consequences');
  p(d.consequences.text);
  h(2, '(d) Measures taken or proposed');
  p(d.measures);
  h(2, 'Timing (art. 33(1))');
  p(d.delay.text);
  p('Information not yet available may be provided in phases without undue further delay (art. 33(4)).');
  h(2, 'Informing the people concerned (art. 34)');
  p(d.informingPeople.text);
  if (d.securityEvents.length > 0) {
    h(2, 'Security events behind this record');
    list(d.securityEvents.map((e) => `${e.id} (${e.kind}, detected ${e.detectedAt}): ${e.summary}`));
  }
  return `${out.join('\n').trimEnd()}\n`;
}

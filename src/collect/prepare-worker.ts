/** Worker-thread entry of the prepare pool: runs `prepareBody` for a request whose source is known. */
import { openIpLookup } from './steps/ip.js';
import { prepareBody, type BodyInput, type PrepareFailure, type Prepared, type PrepareSettings } from './prepare.js';

const ip = openIpLookup();

export interface PrepareTask {
  input: BodyInput;
  settings: PrepareSettings;
}

export default async function run(task: PrepareTask): Promise<Prepared | PrepareFailure> {
  return prepareBody(task.input, task.settings, await ip, () => {
    throw new Error('the prepare pool only takes requests whose source is already known');
  });
}

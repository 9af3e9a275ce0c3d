/** The selector switch as a safety plug-in: its reader (Services that switch versions); the shared rules cover it. */
import { SERVICE_SELECTOR_READER, SelectorStage } from './_reader';
import { RouterPlugin } from '../../safety/_plugin';

export const SERVICE_SELECTOR_PLUGIN: RouterPlugin<SelectorStage> = { name: 'service-selector', reader: SERVICE_SELECTOR_READER, rules: [] };

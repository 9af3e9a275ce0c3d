/** Istio as a safety plug-in: its reader (DestinationRule subsets, VirtualService routes) and its rules. */
import { ISTIO_READER, IstioStage } from './_reader';
import { ISTIO_RULES } from './_rules';
import { RouterPlugin } from '../../safety/_plugin';

export const ISTIO_PLUGIN: RouterPlugin<IstioStage> = { name: 'istio', reader: ISTIO_READER, rules: ISTIO_RULES };

/** The Gateway API as a safety plug-in: its reader (HTTPRoutes, the Services they name) and its rules. */
import { GATEWAY_API_READER, GatewayApiStage } from './_reader';
import { GATEWAY_API_RULES } from './_rules';
import { RouterPlugin } from '../../safety/_plugin';

export const GATEWAY_API_PLUGIN: RouterPlugin<GatewayApiStage> = { name: 'gateway-api', reader: GATEWAY_API_READER, rules: GATEWAY_API_RULES };

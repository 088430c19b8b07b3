/**
 * Dissection step identifiers: small integers so that the registry tables can be typed arrays
 * and the decoder loop can dispatch through one array of step functions without allocating.
 * STEP_STOP ends the loop; the outcome is then in DissectState.status.
 */
export const STEP_STOP = 0;
export const STEP_ETHERNET = 1;
export const STEP_VLAN = 2;
export const STEP_SLL = 3;
export const STEP_SLL2 = 4;
export const STEP_NULL = 5;
export const STEP_LOOP = 6;
export const STEP_RAW_IP = 7;
export const STEP_IPV4 = 8;
export const STEP_IPV6 = 9;
export const STEP_IPV6_EXT = 10;
export const STEP_IPV6_FRAG = 11;
export const STEP_AH = 12;
export const STEP_TCP = 13;
export const STEP_UDP = 14;
export const STEP_VXLAN = 15;
export const STEP_GENEVE = 16;
export const STEP_NO_NEXT = 17;
export const STEP_NOT_IP = 18;
export const STEP_NOT_TCP = 19;
export const STEP_COUNT = 20;

/**
 * The provider's workflow calls (application card, transitions, staff):
 * merged into the contract in preload/api.ts.
 */
export const workflowContract = {} as const;

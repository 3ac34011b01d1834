/** Login, logout, lock, password and the admin's user screens: merged into the contract in preload/api.ts. */
export const authContract = {} as const;

export const DATA_FILE: string;
export function buildData(options?: { force?: boolean }): string;
export function buildBundles(): Promise<void>;
export function buildDemo(options?: { quiet?: boolean }): Promise<void>;

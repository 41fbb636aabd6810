// The shape of the module the code-shipping test writes into a temporary project (its types only).
export declare const quarter: (x: number) => number;
export declare const digest: (text: string) => string;
export declare const whereAmI: () => string;
export declare function explode(why: string): never;

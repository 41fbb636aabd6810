/** The Skein version, written into recorded runs. Keep in step with package.json. */
export const SKEIN_VERSION = '0.1.0';

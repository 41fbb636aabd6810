/**
 * Workspace trust: running or debugging a graph executes the workspace's code, so both are
 * refused in restricted mode (the manifest also disables the commands there).
 */
export const UNTRUSTED_MESSAGE =
  'Skein runs the code of your graph files, so running and debugging are disabled in Restricted Mode. Trust this workspace to enable them.';

/** The message to show when a run may not start, or undefined when it may. */
export function refuseUntrusted(isTrusted: boolean): string | undefined {
  return isTrusted ? undefined : UNTRUSTED_MESSAGE;
}

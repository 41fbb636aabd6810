/**
 * Workspace trust: running or debugging a graph executes the workspace's code, so both are
 * refused in restricted mode (the manifest also disables the commands there). In their place the
 * editor's run menu, its context menu and the explorer offer "Run or Debug (trust this workspace
 * first)", which says why and opens Manage Workspace Trust; the runs view says the same.
 */
export const UNTRUSTED_MESSAGE =
  'Skein runs the code of your graph files, so running and debugging are disabled in Restricted Mode. Trust this workspace to enable them.';

/** The button that opens VS Code's workspace trust editor. */
export const MANAGE_TRUST = 'Manage Workspace Trust';

/** The message to show when a run may not start, or undefined when it may. */
export function refuseUntrusted(isTrusted: boolean): string | undefined {
  return isTrusted ? undefined : UNTRUSTED_MESSAGE;
}

/**
 * The Skein debug adapter over stdio (dist/debugAdapter.js), for tests and for clients other
 * than VS Code; VS Code runs the same session inline in the extension host.
 */
import * as path from 'node:path';
import { SkeinDebugSession } from './session.js';

class StdioSkeinDebugSession extends SkeinDebugSession {
  constructor() {
    super({ node: process.execPath, runnerFile: path.join(__dirname, 'runtime', 'runner.js') });
  }
}

SkeinDebugSession.run(StdioSkeinDebugSession);

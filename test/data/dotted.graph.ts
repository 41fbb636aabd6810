// Imports a module whose name has a dot and no extension: the loader must find the .ts file.
// @ts-expect-error -- extensionless on purpose (bundler style): tsc's NodeNext wants one, Skein's loader does not
import { triple } from './helpers/math.service';

export { triple };
export default { x: 2, y: [triple, 'x'] };

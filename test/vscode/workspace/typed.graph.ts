// A graph file that imports from 'skein', in a workspace without the package installed.
import { delayed } from 'skein';

export const two = (): number => 2;
export default delayed(two)();

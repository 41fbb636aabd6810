/**
 * Tasks on their way to a worker: structured clone cannot carry functions, and drops the
 * prototype of class instances, so the sender replaces each function in a task (its head, nested
 * tasks' heads, function arguments) by a marker naming it (`{__skeinFn: i}`, an index into the
 * batch's function list) and each instance of an exported class by its class and fields
 * (`{__skeinNew: i, fields}`); the worker imports the functions by module URL + export name and
 * puts them back. Both sides walk with the one value walker (graph/walk.ts), every array as a
 * list (`tasks: false`: a task's head is one more function to send) and class instances' fields
 * included.
 */
import { NOT_CYCLIC, type Visitor, type Where, WALK, mapValue, scanValue } from '../graph/walk.js';
import { isPlainObject } from '../graph/spec.js';
import type { FnMarker, InstanceMarker } from './protocol.js';
import { userClassOf } from './wireValues.js';

const isUserInstance = (value: object): boolean => userClassOf(value) !== undefined;

const FUNCTIONS_IN: Visitor<Function[]> = {
  tasks: false,
  leaf(value, out) {
    if (typeof value === 'function') out.push(value);
  },
  instance(value, out) {
    const cls = userClassOf(value);
    if (cls === undefined) return false;
    out.push(cls);
    return true;
  },
};

/** Every function inside a graph value (task heads, nested tasks, function arguments), and the classes of class instances in it. */
export function functionsIn(value: unknown, where: Where): Function[] {
  const out: Function[] = [];
  scanValue(value, FUNCTIONS_IN, out, where);
  return out;
}

const ENCODE: Visitor<ReadonlyMap<Function, number>> = {
  tasks: false,
  leaf: (value, fnIndex) => (typeof value === 'function' ? ({ __skeinFn: fnIndex.get(value)! } satisfies FnMarker) : value),
  instance: isUserInstance,
  rebuild: (value, fields, fnIndex) => ({ __skeinNew: fnIndex.get(userClassOf(value)!)!, fields }) satisfies InstanceMarker,
};

/** A graph value in wire form; `fnIndex` numbers every function and class `functionsIn` found in it. */
export function encodeTask(value: unknown, fnIndex: ReadonlyMap<Function, number>, where: Where): unknown {
  return mapValue(value, ENCODE, fnIndex, where);
}

function isFnMarker(value: object): value is FnMarker {
  return typeof (value as FnMarker).__skeinFn === 'number';
}

function isInstanceMarker(value: object): value is InstanceMarker {
  return typeof (value as InstanceMarker).__skeinNew === 'number' && isPlainObject((value as InstanceMarker).fields);
}

const DECODE: Visitor<readonly Function[]> = {
  tasks: false,
  enter(value, fns) {
    if (isFnMarker(value)) return fns[value.__skeinFn];
    if (isInstanceMarker(value)) return Object.setPrototypeOf(decodeTask(value.fields, fns), (fns[value.__skeinNew] as { prototype: object }).prototype);
    return WALK;
  },
};

/** The graph value `encodeTask` made (never cyclic: it was walked with the cycle check), with the functions (`fns`, imported by the worker) put back. */
export function decodeTask(value: unknown, fns: readonly Function[]): unknown {
  return mapValue(value, DECODE, fns, NOT_CYCLIC);
}

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Real values as kube-apiserver stores them, from the project's shared/ folder beside the checkout (CI lays a copy
 * of it beside its clone); a checkout elsewhere falls back to the workplace's.
 */
const beside = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/k8s-storage');
export const K8S_STORAGE = existsSync(beside) ? beside : '/work/shared/k8s-storage';

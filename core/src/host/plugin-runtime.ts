/**
 * One plugin as the host runs it: manifest, loaded definition, state and
 * what it registered during setup. The host owns these in a Map by id.
 */
import type { EntitySchema } from 'typeorm';
import type { ValidateFunction } from 'ajv';
import type { DefinedPlugin, PluginContext, PluginRouteOptions } from '@switchboard/sdk';
import type { PluginManifest } from '../plugins/manifest.ts';
import { PluginBreaker, type BreakerOptions } from './breaker.ts';

/** `ready` serves traffic; `failed` never does (reason in `error`). */
export type PluginState = 'discovered' | 'installed' | 'ready' | 'failed';

export class PluginRuntime {
  readonly id: string;
  readonly dir: string;
  readonly manifest: PluginManifest;
  readonly prefix: string;
  readonly breaker: PluginBreaker;
  state: PluginState = 'discovered';
  error?: string;
  definition?: DefinedPlugin;
  entities: EntitySchema<any>[] = [];
  context?: PluginContext;
  configValidator?: ValidateFunction;
  /** Routes collected during setup; mounted once setup resolved. */
  readonly routes: PluginRouteOptions[] = [];
  /** Closed after setup: later registrations are a coded error. */
  setupOpen = true;

  constructor(dir: string, manifest: PluginManifest, breaker: BreakerOptions, onTrip: (plugin: PluginRuntime, reason: string) => void) {
    this.id = manifest.id;
    this.dir = dir;
    this.manifest = manifest;
    this.prefix = manifest.permissions?.http?.prefix ?? `/api/plugins/${manifest.id}`;
    this.breaker = new PluginBreaker(breaker, (reason) => onTrip(this, reason));
  }

  get version(): string {
    return this.manifest.version;
  }

  /** Serving traffic: set up, not failed, breaker closed. */
  get active(): boolean {
    return this.state === 'ready' && !this.breaker.open;
  }

  /** Table names must start with this (hyphens → underscores). */
  get tablePrefix(): string {
    return `${this.id.replace(/-/g, '_')}_`;
  }

  fail(reason: string): void {
    this.state = 'failed';
    this.error = reason;
  }
}

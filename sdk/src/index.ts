/**
 * @switchboard/sdk — everything a plugin author imports.
 *
 * Public API: a change to this file's exports is a change to the SDK
 * contract and should be reviewed as such.
 */
export { definePlugin, isDefinedPlugin, PLUGIN_DEFINITION, type PluginDefinition, type DefinedPlugin } from './define-plugin.ts';
export type {
  PluginContext, PluginHttp, PluginRouteOptions, PluginRouteHandler, PluginRequestScope,
  PluginSip, SipEndpoint, SipHandler, SipRequest, SipResponse, SipOutgoingRequest, SipSendResult,
  PluginEvents, EventHandler, EventMeta,
  PluginDb, PluginUi, PageOptions, PluginLive, LiveClient, LiveHandler, PluginServices, PluginSites, SiteInfo,
  PluginDirectory, DirectoryUser,
} from './context.ts';
export type { PluginManifest, PluginPermissions } from './manifest.ts';
export { createTestHost, type TestHost, type TestHostOptions } from './test-host.ts';
export { sendSipRequest, type SipRequestOptions, type SipFinalResponse } from './sip-client.ts';

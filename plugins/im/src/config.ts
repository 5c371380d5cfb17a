/** The per-site config (plugin.json `config`, defaults applied by the core). */
export interface ImConfig {
  maxParticipants: number;
  maxBodyBytes: number;
  keywords: { words: string[]; action: 'block' | 'mask' };
  urls: 'allow' | 'block' | 'defang';
  rateLimit: { messages: number; windowSeconds: number };
  offlineDelivery: boolean;
  deliveryWaitSeconds: number;
  files: { maxBytes: number; blockedExtensions: string[] };
  /** Text emoticons become Unicode emoji (emoticons.ts). */
  emoticons: boolean;
}

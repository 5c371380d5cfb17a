// The presence benchmark's anchor: Kamailio 5.6 as a presence server
// (presence + presence_xml, Debian package kamailio-presence-modules) on
// MariaDB (db_mysql, kamailio-mysql-modules), with the same load as
// Switchboard gets. Subscriptions and presentities live in Kamailio's shared
// memory, written through to the database (subs_db_mode 2; with write-back, mode 1, it sent no NOTIFY for a modifying PUBLISH; Switchboard uses a
// write-behind journal); watchers are accepted without authorization rules
// (force_active). The config is written here, from the table below.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { startKamailio, type KamailioPeer } from './kamailio/kamailio-peer.ts';

export const KAMAILIO_PRESENCE_DB = 'kamailio_presence_bench';
const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules';

function config(port: number, children: number): string {
  return `#!KAMAILIO
# Presence server for bench/presence.ts: PUBLISH and SUBSCRIBE for Event: presence,
# NOTIFYs from the presence module (statefully, through tm).
debug=1
log_stderror=yes
children=${children}
auto_aliases=no
alias="bench.example"
mpath="${MODULES}/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "textops.so"
loadmodule "db_mysql.so"
loadmodule "presence.so"
loadmodule "presence_xml.so"
modparam("presence", "db_url", "mysql://root@127.0.0.1/${KAMAILIO_PRESENCE_DB}")
modparam("presence", "server_address", "sip:127.0.0.1:${port}")
modparam("presence", "subs_db_mode", 2)
modparam("presence", "db_update_period", 20)
modparam("presence", "max_expires", 3600)
modparam("presence", "publ_cache", 1)
modparam("presence", "subs_htable_size", 14)
modparam("presence", "pres_htable_size", 12)
modparam("presence_xml", "db_url", "mysql://root@127.0.0.1/${KAMAILIO_PRESENCE_DB}")
modparam("presence_xml", "force_active", 1)
modparam("presence_xml", "integrated_xcap_server", 0)

request_route {
  if (is_method("PUBLISH|SUBSCRIBE")) {
    if (!t_newtran()) { sl_reply_error(); exit; }
    if (is_method("PUBLISH")) handle_publish();
    else handle_subscribe();
    t_release();
    exit;
  }
  if (is_method("OPTIONS")) { sl_send_reply("200", "OK"); exit; }
  sl_send_reply("405", "Method Not Allowed");
}
`;
}

export interface KamailioPresence {
  peer: KamailioPeer;
  stop(): Promise<void>;
}

/** A fresh database with Kamailio's presence tables, and Kamailio on `port`. */
export async function startKamailioPresence(port: number, children = 2): Promise<KamailioPresence> {
  const schema = readFileSync('/usr/share/kamailio/mysql/presence-create.sql', 'utf8');
  const standard = readFileSync('/usr/share/kamailio/mysql/standard-create.sql', 'utf8');
  const conn = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '', multipleStatements: true });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${KAMAILIO_PRESENCE_DB}\``);
    await conn.query(`CREATE DATABASE \`${KAMAILIO_PRESENCE_DB}\``);
    await conn.query(`USE \`${KAMAILIO_PRESENCE_DB}\``);
    await conn.query(standard);
    await conn.query(schema);
  } finally {
    await conn.end();
  }
  const dir = mkdtempSync(join(tmpdir(), 'kamailio-presence-'));
  const file = join(dir, 'kamailio.cfg');
  writeFileSync(file, config(port, children));
  // Shared memory holds every subscription and presentity: room for 100,000 and more.
  const peer = await startKamailio({ config: file, port, sharedMemMb: 1024, privateMemMb: 16, startTimeoutMs: 10_000 });
  return {
    peer,
    stop: async () => {
      await peer.stop();
      rmSync(dir, { recursive: true, force: true });
      const c = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '' });
      await c.query(`DROP DATABASE IF EXISTS \`${KAMAILIO_PRESENCE_DB}\``).finally(() => c.end());
    },
  };
}

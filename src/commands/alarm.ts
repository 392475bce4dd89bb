import type { Command } from 'commander';
import { withHosts } from '../engine/session.js';
import { alarmJson, alarmTable, alarmText, disarmAlarms, listAlarms } from '../members/alarm.js';
import { askMembers } from '../etcd/members.js';
import { printJson, println } from '../output.js';
import { loadInventory, withAcceptNew, withInventory, withJson, type CommonOptions } from './options.js';

type Opts = CommonOptions & { acceptNew?: boolean };


export function registerAlarm(program: Command): void {
  const alarm = program.command('alarm').description("the cluster's active alarms (NOSPACE, CORRUPT)");
  withJson(withInventory(withAcceptNew(alarm.command('list').description('the active alarms, per member')))).action(async (opts: Opts) => {
    const inv = await loadInventory(opts);
    const { alarms, rows } = await withHosts(inv, inv.nodes, { acceptNew: !!opts.acceptNew }, async (run) => {
      const view = await askMembers(inv, run.hosts);
      return { alarms: await listAlarms(view), rows: view.rows };
    });
    if (opts.json) printJson({ alarms: alarmJson(alarms, rows) });
    else println(alarmTable(alarms, rows));
  });
  const disarm = alarm.command('disarm').description('disarm the active alarms; refused while a database is still at its quota (compact and defrag first)');
  withJson(withInventory(withAcceptNew(disarm))).action(async (opts: Opts) => {
    const inv = await loadInventory(opts);
    const { alarms, rows } = await withHosts(inv, inv.nodes, { acceptNew: !!opts.acceptNew }, async (run) => {
      const view = await askMembers(inv, run.hosts);
      return { alarms: await disarmAlarms(inv, view), rows: view.rows };
    });
    if (opts.json) printJson({ disarmed: alarmJson(alarms, rows) });
    else println(alarms.length ? `disarmed ${alarmText(alarms, rows)}` : 'no active alarms: nothing to disarm');
  });
}

import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Site-defined (custom) states on the web client's manual state. */
export default class AddManualCustomState implements MigrationInterface {
  name = '002-manual-custom-state';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumn('presence_manual', new TableColumn({ name: 'custom', type: 'varchar', length: '40', isNullable: true }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropColumn('presence_manual', 'custom');
  }
}

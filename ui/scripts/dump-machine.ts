// Prints the VM actor's machine definition (XState v5 machine.toJSON()) as JSON: the inspector's development
// fixture, drawn at #/inspect/fixture:vm by the Vite dev server (never part of the build).
//   npx tsx ui/scripts/dump-machine.ts > ui/src/fixtures/vm-machine.json
import { vmMachine } from '../../machines/vm.machine';

process.stdout.write(`${JSON.stringify(vmMachine.toJSON(), null, 1)}\n`);

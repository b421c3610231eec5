import type { CommandModule } from '../commands/command.ts';
import { consumeCommand } from '../commands/consume.ts';
import { controllerCommand } from '../commands/controller.ts';
import { deregisterCommand } from '../commands/deregister.ts';
import { installCommand } from '../commands/install.ts';
import { registerCommand } from '../commands/register.ts';
import { sidecarCommand } from '../commands/sidecar.ts';
import { versionCommand } from '../commands/version.ts';
import type { OptionSpec } from '../settings/option.ts';

/** Every subcommand, in the order --help lists them. */
export const COMMANDS: readonly CommandModule[] = [registerCommand, deregisterCommand, sidecarCommand, controllerCommand, consumeCommand, installCommand, versionCommand];

/** Every option of every command, each once (the README's flag table is checked against this). */
export const ALL_OPTIONS: readonly OptionSpec[] = [...new Map(COMMANDS.flatMap((command) => command.options).map((option) => [option.flag, option])).values()];

/** The agent's version, sent as User-Agent and in every record. A test keeps it equal to package.json's. */
export const VERSION = '0.1.0';
export const AGENT_NAME = 'cmdb-hook';

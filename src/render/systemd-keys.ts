/**
 * The keys systemd knows in the sections of a .service unit (systemd.unit(5), systemd.service(5),
 * systemd.exec(5), systemd.kill(5), systemd.resource-control(5), around systemd 252-256, plus a few legacy
 * names that still load). Not every key of every version: enough to tell a typo (`RestartSecs=`) or a flag
 * that escaped the ExecStart value (`--cert-file=…`) from a real setting. Keys starting with `X-` are
 * always allowed, as systemd allows them.
 */

const CONDITIONS = [
  'Architecture', 'Firmware', 'Virtualization', 'Host', 'KernelCommandLine', 'KernelVersion', 'Credential', 'Environment',
  'Security', 'Capability', 'ACPower', 'NeedsUpdate', 'FirstBoot', 'PathExists', 'PathExistsGlob', 'PathIsDirectory',
  'PathIsSymbolicLink', 'PathIsMountPoint', 'PathIsReadWrite', 'PathIsEncrypted', 'DirectoryNotEmpty', 'FileNotEmpty',
  'FileIsExecutable', 'User', 'Group', 'ControlGroupController', 'Memory', 'CPUs', 'CPUFeature', 'OSRelease',
  'MemoryPressure', 'CPUPressure', 'IOPressure',
];

export const UNIT_KEYS: readonly string[] = [
  'Description', 'Documentation', 'Wants', 'Requires', 'Requisite', 'BindsTo', 'PartOf', 'Upholds', 'Conflicts',
  'Before', 'After', 'OnFailure', 'OnSuccess', 'PropagatesReloadTo', 'ReloadPropagatedFrom', 'PropagatesStopTo',
  'StopPropagatedFrom', 'JoinsNamespaceOf', 'RequiresMountsFor', 'WantsMountsFor', 'OnFailureJobMode', 'OnFailureIsolate',
  'IgnoreOnIsolate', 'StopWhenUnneeded', 'RefuseManualStart', 'RefuseManualStop', 'AllowIsolate', 'DefaultDependencies',
  'SurviveFinalKillSignal', 'CollectMode', 'FailureAction', 'SuccessAction', 'FailureActionExitStatus',
  'SuccessActionExitStatus', 'JobTimeoutSec', 'JobRunningTimeoutSec', 'JobTimeoutAction', 'JobTimeoutRebootArgument',
  'StartLimitIntervalSec', 'StartLimitInterval', 'StartLimitBurst', 'StartLimitAction', 'RebootArgument', 'SourcePath',
  ...CONDITIONS.map((c) => `Condition${c}`),
  ...CONDITIONS.map((c) => `Assert${c}`),
];

export const INSTALL_KEYS: readonly string[] = ['WantedBy', 'RequiredBy', 'UpheldBy', 'Also', 'Alias', 'DefaultInstance'];

const SERVICE_OWN = [
  'Type', 'ExitType', 'RemainAfterExit', 'GuessMainPID', 'PIDFile', 'BusName', 'ExecStart', 'ExecStartPre', 'ExecStartPost',
  'ExecCondition', 'ExecReload', 'ExecStop', 'ExecStopPost', 'RestartSec', 'RestartSteps', 'RestartMaxDelaySec',
  'TimeoutStartSec', 'TimeoutStopSec', 'TimeoutAbortSec', 'TimeoutSec', 'TimeoutStartFailureMode', 'TimeoutStopFailureMode',
  'RuntimeMaxSec', 'RuntimeRandomizedExtraSec', 'WatchdogSec', 'Restart', 'RestartMode', 'SuccessExitStatus',
  'RestartPreventExitStatus', 'RestartForceExitStatus', 'RootDirectoryStartOnly', 'NonBlocking', 'NotifyAccess', 'Sockets',
  'FileDescriptorStoreMax', 'FileDescriptorStorePreserve', 'USBFunctionDescriptors', 'USBFunctionStrings', 'OOMPolicy',
  'OpenFile', 'ReloadSignal', 'PermissionsStartOnly', 'StartLimitInterval', 'StartLimitIntervalSec', 'StartLimitBurst',
  'StartLimitAction', 'FailureAction', 'RebootArgument',
];

const EXEC = [
  'ExecSearchPath', 'WorkingDirectory', 'RootDirectory', 'RootImage', 'RootImageOptions', 'RootEphemeral', 'RootHash',
  'RootHashSignature', 'RootVerity', 'MountAPIVFS', 'ProtectProc', 'ProcSubset', 'BindPaths', 'BindReadOnlyPaths',
  'MountImages', 'ExtensionImages', 'ExtensionDirectories', 'User', 'Group', 'DynamicUser', 'SupplementaryGroups',
  'SetLoginEnvironment', 'PAMName', 'CapabilityBoundingSet', 'AmbientCapabilities', 'NoNewPrivileges', 'SecureBits',
  'SELinuxContext', 'AppArmorProfile', 'SmackProcessLabel', 'LimitCPU', 'LimitFSIZE', 'LimitDATA', 'LimitSTACK',
  'LimitCORE', 'LimitRSS', 'LimitNOFILE', 'LimitAS', 'LimitNPROC', 'LimitMEMLOCK', 'LimitLOCKS', 'LimitSIGPENDING',
  'LimitMSGQUEUE', 'LimitNICE', 'LimitRTPRIO', 'LimitRTTIME', 'UMask', 'CoredumpFilter', 'KeyringMode', 'OOMScoreAdjust',
  'TimerSlackNSec', 'Personality', 'IgnoreSIGPIPE', 'Nice', 'CPUSchedulingPolicy', 'CPUSchedulingPriority',
  'CPUSchedulingResetOnFork', 'CPUAffinity', 'NUMAPolicy', 'NUMAMask', 'IOSchedulingClass', 'IOSchedulingPriority',
  'ProtectSystem', 'ProtectHome', 'RuntimeDirectory', 'StateDirectory', 'CacheDirectory', 'LogsDirectory',
  'ConfigurationDirectory', 'RuntimeDirectoryMode', 'StateDirectoryMode', 'CacheDirectoryMode', 'LogsDirectoryMode',
  'ConfigurationDirectoryMode', 'RuntimeDirectoryPreserve', 'TimeoutCleanSec', 'ReadWritePaths', 'ReadOnlyPaths',
  'InaccessiblePaths', 'ExecPaths', 'NoExecPaths', 'TemporaryFileSystem', 'PrivateTmp', 'PrivateDevices',
  'PrivateNetwork', 'NetworkNamespacePath', 'PrivateIPC', 'IPCNamespacePath', 'PrivateUsers', 'ProtectHostname',
  'ProtectClock', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectControlGroups',
  'RestrictAddressFamilies', 'RestrictFileSystems', 'RestrictNamespaces', 'LockPersonality', 'MemoryDenyWriteExecute',
  'RestrictRealtime', 'RestrictSUIDSGID', 'RemoveIPC', 'PrivateMounts', 'MountFlags', 'SystemCallFilter',
  'SystemCallErrorNumber', 'SystemCallArchitectures', 'SystemCallLog', 'Environment', 'EnvironmentFile',
  'PassEnvironment', 'UnsetEnvironment', 'StandardInput', 'StandardOutput', 'StandardError', 'StandardInputText',
  'StandardInputData', 'LogLevelMax', 'LogExtraFields', 'LogRateLimitIntervalSec', 'LogRateLimitBurst',
  'LogFilterPatterns', 'LogNamespace', 'SyslogIdentifier', 'SyslogFacility', 'SyslogLevel', 'SyslogLevelPrefix',
  'TTYPath', 'TTYReset', 'TTYVHangup', 'TTYRows', 'TTYColumns', 'TTYVTDisallocate', 'LoadCredential',
  'LoadCredentialEncrypted', 'ImportCredential', 'SetCredential', 'SetCredentialEncrypted', 'UtmpIdentifier', 'UtmpMode',
  'MemoryKSM',
];

const KILL = ['KillMode', 'KillSignal', 'RestartKillSignal', 'SendSIGHUP', 'SendSIGKILL', 'FinalKillSignal', 'WatchdogSignal'];

const RESOURCE_CONTROL = [
  'CPUAccounting', 'CPUWeight', 'StartupCPUWeight', 'CPUQuota', 'CPUQuotaPeriodSec', 'AllowedCPUs', 'StartupAllowedCPUs',
  'AllowedMemoryNodes', 'StartupAllowedMemoryNodes', 'MemoryAccounting', 'MemoryMin', 'MemoryLow', 'StartupMemoryLow',
  'MemoryHigh', 'StartupMemoryHigh', 'MemoryMax', 'StartupMemoryMax', 'MemorySwapMax', 'StartupMemorySwapMax',
  'MemoryZSwapMax', 'StartupMemoryZSwapMax', 'TasksAccounting', 'TasksMax', 'IOAccounting', 'IOWeight',
  'StartupIOWeight', 'IODeviceWeight', 'IOReadBandwidthMax', 'IOWriteBandwidthMax', 'IOReadIOPSMax', 'IOWriteIOPSMax',
  'IODeviceLatencyTargetSec', 'IPAccounting', 'IPAddressAllow', 'IPAddressDeny', 'IPIngressFilterPath',
  'IPEgressFilterPath', 'BPFProgram', 'SocketBindAllow', 'SocketBindDeny', 'RestrictNetworkInterfaces', 'DeviceAllow',
  'DevicePolicy', 'Slice', 'Delegate', 'DelegateSubgroup', 'DisableControllers', 'ManagedOOMSwap',
  'ManagedOOMMemoryPressure', 'ManagedOOMMemoryPressureLimit', 'ManagedOOMPreference', 'MemoryPressureWatch',
  'MemoryPressureThresholdSec', 'CoredumpReceive',
  // legacy cgroup-v1 names, still parsed
  'CPUShares', 'StartupCPUShares', 'MemoryLimit', 'BlockIOAccounting', 'BlockIOWeight', 'StartupBlockIOWeight',
  'BlockIODeviceWeight', 'BlockIOReadBandwidth', 'BlockIOWriteBandwidth',
];

export const SERVICE_KEYS: readonly string[] = [...new Set([...SERVICE_OWN, ...EXEC, ...KILL, ...RESOURCE_CONTROL])];

/** Known keys per section of a .service file. */
export const SECTION_KEYS: Readonly<Record<string, readonly string[]>> = {
  Unit: UNIT_KEYS,
  Service: SERVICE_KEYS,
  Install: INSTALL_KEYS,
};

/** The values `Type=` accepts. */
export const SERVICE_TYPES: readonly string[] = ['simple', 'exec', 'forking', 'oneshot', 'dbus', 'notify', 'notify-reload', 'idle'];

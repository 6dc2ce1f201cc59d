// What a reader's page already has when it pastes a README block: the function that gets a
// storage token from its server (the README shows one), and a progress bar.
declare function getStorageToken(): Promise<string>;
declare const progressBar: HTMLProgressElement;

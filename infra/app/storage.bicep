// One storage account, no shared keys: the app's tables, queues (with the
// poison queue) and blob containers, and the deployment package container.
param name string
param location string
param tags object
param deploymentContainerName string

var tables = ['flows', 'principalFlows', 'connections', 'oauthStates', 'sessions', 'pendingWork', 'machines']
var queues = ['cloud-run-requests', 'cloud-run-requests-poison']
var containers = [deploymentContainerName, 'flow-definitions']

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }

  resource blobService 'blobServices' = {
    name: 'default'
    resource container 'containers' = [for container in containers: {
      name: container
      properties: { publicAccess: 'None' }
    }]
  }

  resource queueService 'queueServices' = {
    name: 'default'
    resource queue 'queues' = [for queue in queues: {
      name: queue
    }]
  }

  resource tableService 'tableServices' = {
    name: 'default'
    resource table 'tables' = [for table in tables: {
      name: table
    }]
  }
}

output name string = account.name
output deploymentContainerName string = deploymentContainerName
output blobEndpoint string = account.properties.primaryEndpoints.blob

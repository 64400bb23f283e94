// The function app on Flex Consumption (Node 22): storage through its
// user-assigned identity (no connection strings), secrets as Key Vault
// references resolved with that identity, telemetry with Entra auth.
// Every setting lib/config.ts requires is set here (test/unit/infra.test.ts checks).
param name string
param planName string
param location string
param tags object
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string
param keyVaultName string
param sealingKeysSecretName string
param signInClientSecretName string
@description('Where people sign in to flowshare\'s pages: https://login.microsoftonline.com/<tenant>')
param signInAuthority string
@description('The client id of the web app registration people sign in with.')
param signInClientId string
@description('App setting name to Key Vault secret name, for each OAuth client secret.')
param oauthClientSecretNames object
param authIssuers string
param authAudiences string
param connectorCatalog string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity.
    keyVaultReferenceIdentity: identityId
    siteConfig: { minTlsVersion: '1.2' }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: { instanceMemoryMB: 2048, maximumInstanceCount: 100 }
      runtime: { name: 'node', version: '22' }
    }
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: union(
      {
        // Storage for the host and the app alike, through the identity.
        AzureWebJobsStorage__accountName: storage.name
        AzureWebJobsStorage__credential: 'managedidentity'
        AzureWebJobsStorage__clientId: identityClientId
        AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
        AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
        AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
        APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
        AUTH_ISSUER: authIssuers
        AUTH_AUDIENCE: authAudiences
        CONNECTOR_CATALOG: connectorCatalog
        SECRET_SEALING_KEYS: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${sealingKeysSecretName})'
        OAUTH_REDIRECT_URI: 'https://${name}.azurewebsites.net/api/connections/oauth/callback'
        SIGNIN_AUTHORITY: signInAuthority
        SIGNIN_CLIENT_ID: signInClientId
        SIGNIN_CLIENT_SECRET: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${signInClientSecretName})'
        SIGNIN_REDIRECT_URI: 'https://${name}.azurewebsites.net/api/auth/callback'
        CLOUD_RUN_MAX_DEQUEUE_COUNT: '5'
        // How long a run's lease holds without a heartbeat (lib/config.ts).
        RUN_LEASE_SECONDS: '60'
        // The host refuses a body past the service's 1 MiB (MAX_BODY_BYTES in
        // lib/domain/limits.ts) before any function runs, rather than reading
        // up to its default of 100 MiB first.
        FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '1048576'
        // The site's root is the web console (functions/web.ts), not the host's default page.
        AzureWebJobsDisableHomepage: 'true'
      },
      // Each OAuth client secret the catalog names, as a Key Vault reference.
      toObject(items(oauthClientSecretNames), s => s.key, s => '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${s.value})')
    )
  }
}

output name string = app.name
output uri string = 'https://${app.properties.defaultHostName}'
output oauthRedirectUri string = 'https://${app.properties.defaultHostName}/api/connections/oauth/callback'
output signInRedirectUri string = 'https://${app.properties.defaultHostName}/api/auth/callback'

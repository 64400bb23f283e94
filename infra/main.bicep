// flowshare on Azure: a Flex Consumption function app with a user-assigned
// managed identity, storage reached without shared keys, Key Vault (RBAC)
// holding the sealing key and OAuth client secrets, and Application Insights
// with local auth disabled. `azd up` deploys it.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names every resource.')
param environmentName string

@minLength(1)
@description('Region of every resource (one that offers Flex Consumption).')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the deploying user, given data access for debugging; empty for none.')
param principalId string = ''

@description('Accepted token issuers, comma-separated, e.g. https://login.microsoftonline.com/<tenant>/v2.0')
param authIssuers string

@description('Accepted token audiences, comma-separated: the API app registration\'s app id URI or client id.')
param authAudiences string

@description('The connector catalog (JSON array, see README); each oauth2 connector names its clientSecretSetting.')
param connectorCatalog string

@secure()
@description('id:base64key[,id:base64key...] - 32-byte AES keys sealing connection secrets; the first seals.')
param sealingKeys string

@description('Where people sign in to flowshare\'s pages (Entra ID): https://login.microsoftonline.com/<tenant>')
param signInAuthority string

@description('The client id of the web app registration people sign in with (a web redirect URI of <app>/api/auth/callback).')
param signInClientId string

@secure()
@description('That web app registration\'s client secret.')
param signInClientSecret string

@secure()
@description('OAuth client secrets as a JSON object: { "<clientSecretSetting>": "<secret>" }, one per oauth2 connector.')
param oauthClientSecrets string = '{}'

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-flowshare-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'stflowshare${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: 'app-package-${resourceToken}'
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-flowshare-${resourceToken}'
    applicationInsightsName: 'appi-flowshare-${resourceToken}'
    location: location
    tags: tags
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-fs-${resourceToken}'
    location: location
    tags: tags
    sealingKeys: sealingKeys
    oauthClientSecrets: oauthClientSecrets
    signInClientSecret: signInClientSecret
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: 'func-flowshare-${resourceToken}'
    planName: 'plan-flowshare-${resourceToken}'
    location: location
    tags: union(tags, { 'azd-service-name': 'api' })
    identityId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    sealingKeysSecretName: keyVault.outputs.sealingKeysSecretName
    signInClientSecretName: keyVault.outputs.signInClientSecretName
    signInAuthority: signInAuthority
    signInClientId: signInClientId
    oauthClientSecretNames: keyVault.outputs.oauthClientSecretNames
    authIssuers: authIssuers
    authAudiences: authAudiences
    connectorCatalog: connectorCatalog
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output OAUTH_REDIRECT_URI string = api.outputs.oauthRedirectUri
output SIGNIN_REDIRECT_URI string = api.outputs.signInRedirectUri

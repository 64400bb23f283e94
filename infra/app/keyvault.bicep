// Key Vault with RBAC authorization: the sealing keys and the OAuth clients'
// secrets and the sign-in client's secret, which app settings reference with @Microsoft.KeyVault(...).
param name string
param location string
param tags object

@secure()
param sealingKeys string

@secure()
@description('{ "<clientSecretSetting>": "<secret>" }')
param oauthClientSecrets string

@secure()
@description('The client secret of the web app registration people sign in to flowshare\'s pages with.')
param signInClientSecret string

var sealingKeysSecretName = 'secret-sealing-keys'
var signInClientSecretName = 'secret-signin-client'
// Secret names allow letters, digits and '-': OFFICE365_CLIENT_SECRET becomes oauth-OFFICE365-CLIENT-SECRET.
var clientSecrets = items(json(oauthClientSecrets))

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }

  resource sealing 'secrets' = {
    name: sealingKeysSecretName
    properties: { value: sealingKeys }
  }

  resource signIn 'secrets' = {
    name: signInClientSecretName
    properties: { value: signInClientSecret }
  }

  resource clientSecret 'secrets' = [for secret in clientSecrets: {
    name: 'oauth-${replace(secret.key, '_', '-')}'
    properties: { value: secret.value }
  }]
}

output name string = vault.name
output sealingKeysSecretName string = sealingKeysSecretName
output signInClientSecretName string = signInClientSecretName
@description('App setting name to Key Vault secret name, for each OAuth client secret.')
output oauthClientSecretNames object = toObject(clientSecrets, s => s.key, s => 'oauth-${replace(s.key, '_', '-')}')
